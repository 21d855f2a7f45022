"""Evaluate a model on a prepared cache: decode every clip, score WER/CER, write reports.

The hypotheses are written as ``id text`` lines beside the report (``hyp.txt``, ``ref.txt``) so
that ``lipread score ref.txt hyp.txt`` reproduces the same numbers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from lipread.metrics import ScoreReport, score
from lipread.metrics.files import write_transcripts
from lipread.metrics.wordtimes import matched_word_errors, word_time_report
from lipread.readers.options import (  # noqa: F401  (also importable from here, as before)
    DecodeOptions,
    check_modality,
    stored_decoder,
)
from lipread.types import Hypothesis

log = logging.getLogger("lipread.evaluate")


@dataclass
class EvalResult:
    report: ScoreReport
    references: dict[str, str]
    hypotheses: dict[str, str]
    split: str = "all"
    """The split that was scored (``train``/``val``/``test``, or ``all``)."""
    decode: DecodeOptions | None = None
    """The decoder settings used (the model's stored ones unless overridden)."""
    best: dict[str, Hypothesis] = field(default_factory=dict)
    """The best hypothesis of each utterance (word times and confidences)."""
    word_times: dict | None = None
    """Word-time error on correctly read words (:func:`word_time_report`) when the corpus has word times."""
    condition: dict[str, Any] = field(default_factory=dict)
    """What the model read: ``modality`` (av | video | audio) and, with noise, ``noise`` and ``snr_db``."""

    def write(self, out_dir: str | Path, extra: dict[str, Any] | None = None) -> dict[str, Path]:
        """Write ``report.json`` (summary), ``utterances.jsonl``, ``hyp.txt`` and ``ref.txt`` into ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {name: out_dir / name for name in ("report.json", "utterances.jsonl", "hyp.txt", "ref.txt")}
        summary = self.summary(extra)
        summary["files"] = {k: str(v) for k, v in paths.items() if k != "report.json"}
        paths["report.json"].write_text(json.dumps(summary, indent=2) + "\n")
        with open(paths["utterances.jsonl"], "w") as f:
            for u in self.report.utterances:
                row = u.to_dict()
                hyp = self.best.get(u.id)
                if hyp is not None:
                    row["confidence"] = hyp.confidence
                    row["words"] = [{"word": w.word, "start": w.start, "end": w.end, "confidence": w.confidence}
                                    for w in hyp.words]
                f.write(json.dumps(row) + "\n")
        write_transcripts(paths["hyp.txt"], self.hypotheses)
        write_transcripts(paths["ref.txt"], self.references)
        return paths

    def summary(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The report without per-utterance rows: rates, counts, per speaker, split and decoder."""
        summary = self.report.to_dict(with_utterances=False)
        summary["per_speaker"] = {
            spk: {"wer": r.wer, "cer": r.cer, "utterances": len(r.utterances)}
            for spk, r in self.report.by_speaker().items()
        }
        summary["split"] = self.split
        if self.word_times is not None:
            summary["word_times"] = self.word_times
        if self.decode is not None:
            summary["decoder"] = asdict(self.decode)
        summary.update(self.condition)
        summary.update(extra or {})
        return summary


def choose_split(counts: dict[str, int], split: str | None) -> str:
    """``auto``: the held-out split the cache records (``test``, else ``val``), else ``all`` (with a
    warning: training clips are scored too). ``None`` or ``all``: every clip."""
    if split in (None, "all"):
        return "all"
    if split != "auto":
        return split
    for name in ("test", "val"):
        if counts.get(name):
            return name
    log.warning("the cache records no val or test split: scoring all %d clips, training clips included",
                sum(counts.values()))
    return "all"


@torch.no_grad()
def evaluate(
    checkpoint: str,
    cache: str,
    split: str | None = None,
    options: DecodeOptions | None = None,
    batch_size: int = 8,
    device: str = "auto",
    limit: int = 0,
    modality: str = "auto",
    noise: str | None = None,
    snr: float | None = None,
    noise_seed: int = 0,
    standin: bool = False,
    **decode_overrides: Any,
) -> EvalResult:
    """Decode the clips of ``split`` in ``cache`` with the model at ``checkpoint`` (folder or zoo name).

    ``split``: train | val | test | all (None: all) | auto (the held-out split the cache records).
    ``options``: the decoder (default: the one stored with the model, with ``decode_overrides`` —
    ``decoder``, ``beam_size``, ``lm``, ``lexicon``, ``lm_weight``, ``word_score`` — on top), so one model
    gives one number from ``lipread evaluate`` and ``lipread transcribe``.
    ``modality``: what an audio-visual model reads (av | video | audio; auto = av for a model with a Listen
    encoder, else video). ``noise`` (white | babble) at ``snr`` dB is mixed into each clip's sound first, seeded
    per clip by ``noise_seed`` (babble: other clips of the same split).
    ``standin``: each clip is first given to one of the stand-in speakers (:mod:`lipread.data.standin`: its
    voice and face changed by transforms training never applies); WER per stand-in is in the report.
    """
    from lipread.data import PreparedDataset, collate
    from lipread.device import resolve_device
    from lipread.errors import UsageError
    from lipread.models.checkpoint import load_model
    from lipread.models.zoo import resolve_model
    from lipread.progress import progress_bar
    from lipread.readers import reader_for
    from lipread.readers.options import resolve_decode_options
    from lipread.text import Tokenizer

    if int(batch_size) < 1:
        raise UsageError(f"batch size must be at least 1, not {batch_size}", fix="Use --batch-size 1 or more.")
    if int(limit) < 0:
        raise UsageError(f"limit must be 0 (all) or more, not {limit}", fix="Use --limit 0 for every clip.")
    dev = resolve_device(device)
    path = resolve_model(checkpoint)
    model, config = load_model(path, device=dev)
    tokenizer = Tokenizer.from_dict(config["tokenizer"])
    stored = stored_decoder(config, path)
    if options is not None and any(v is not None for v in decode_overrides.values()):
        raise UsageError("give either options=DecodeOptions(...) or decoder settings, not both")
    options = options or resolve_decode_options(stored, **decode_overrides)
    reader = reader_for(model, tokenizer, options, stored)
    modality = check_modality(modality, reader.reads_audio, path, noise, snr)
    split = choose_split(PreparedDataset(cache, tokenizer=tokenizer).split_counts(), split)
    audio_kwargs = audio_dataset_options(cache, config, modality, noise, snr, noise_seed, path, standin=standin)
    dataset = PreparedDataset(cache, split=None if split == "all" else split, tokenizer=tokenizer, standin=standin,
                              **audio_kwargs)
    check_preprocess(config.get("preprocess"), dataset.preprocess, path, cache)
    log.info("scoring split %s of %s (%d clips) with %s on %s; %s decoder", split, cache, len(dataset), path, dev,
             options.decoder)
    indices = list(range(len(dataset)))[: limit or None]
    refs, hyps, speakers, best = {}, {}, {}, {}
    time_errors: list[tuple[float, float]] = []
    batches = range(0, len(indices), batch_size)
    for start in progress_bar(batches, desc="evaluate", unit="batch"):
        chunk = indices[start : start + batch_size]
        batch = collate([dataset[i] for i in chunk]).to(dev)
        nbests = reader.read_batch(batch, modality).nbests
        for i, uid, text, spk, nbest in zip(chunk, batch.ids, batch.texts, batch.speakers, nbests):
            refs[uid], hyps[uid], speakers[uid] = text, nbest[0].text if nbest else "", spk
            if not nbest:
                continue
            best[uid] = nbest[0]
            info = dataset.clips[i]
            if info.words:  # reference word times, on the clip's clock
                offset = info.start or 0.0
                ref_words = [(w[0], w[1] - offset, w[2] - offset) for w in info.words]
                time_errors += matched_word_errors(ref_words, nbest[0].words)
    ids = list(refs)
    report = score([refs[i] for i in ids], [hyps[i] for i in ids], ids=ids, speakers=[speakers[i] for i in ids])
    # what an audio-visual model read; a lips-only model always reads the lips, and its reports stay as they were
    condition: dict[str, Any] = {"modality": modality} if reader.reads_audio else {}
    if noise:
        condition.update(noise=noise, snr_db=float(snr), noise_seed=noise_seed)
    if standin:
        condition["standin"] = True
    return EvalResult(report, refs, hyps, split=split, decode=options, best=best,
                      word_times=word_time_report(time_errors) if time_errors else None, condition=condition)


def audio_dataset_options(cache, config: dict, modality: str, noise, snr, noise_seed: int, model_path,
                          standin: bool = False) -> dict:
    """PreparedDataset options for the sound a modality needs: the model's audio features computed from
    the cache's stored sound (after noise, when asked), or none for lips only."""
    from lipread.data.cache import CacheReader
    from lipread.errors import DataError

    if modality == "video":
        return {"audio": False}
    reader = CacheReader(cache)
    if not reader.clips or not reader.clips[0].audio_shape:
        raise DataError(f"the model reads sound (--modality {modality}), but the cache has no audio features",
                        cache, "Prepare the corpus again with `lipread prepare ... --audio`.")
    features = (config.get("preprocess") or {}).get("audio_features")
    if not reader.has_wave:
        cached = reader.config.get("frontend", {}).get("audio_features")
        if noise or standin or features != cached:
            raise DataError("the cache kept no sound (prepared by an older lipread), so "
                            + ("noise cannot be mixed in" if noise else "the stand-in voices cannot be made"
                               if standin else "the model's audio features cannot be made"),
                            cache, "Prepare the corpus again with `lipread prepare ... --audio`.")
        return {}
    return {"audio_features": features, "eval_noise": (noise, float(snr), noise_seed) if noise else None}


def check_preprocess(model_pre: dict | None, data_pre: dict | None, model_path, cache) -> None:
    """The model must see clips cropped the way it was trained (same preset and colour)."""
    from lipread.errors import ConfigError

    if not model_pre or not data_pre:
        return
    for key in ("preset", "gray"):
        if key in model_pre and key in data_pre and model_pre[key] != data_pre[key]:
            raise ConfigError(
                f"the model was trained on {key}={model_pre[key]!r} crops but the cache has {data_pre[key]!r}",
                cache,
                f"Prepare the data with the model's settings ({model_path}).",
            )


def format_summary(report: ScoreReport, top: int = 10, split: str | None = None,
                   decode: DecodeOptions | None = None, word_times: dict | None = None,
                   condition: dict | None = None) -> str:
    what = f"{len(report.utterances)} utterances" + (f" of split {split}" if split else "")
    if condition and condition.get("modality"):
        what += f", modality {condition['modality']}"
        if condition.get("noise"):
            what += f", {condition['noise']} noise at {condition['snr_db']:g} dB"
    if condition and condition.get("standin"):
        what += ", stand-in speakers"

    if decode is not None:
        what += f", {decode.decoder} decoder" + (f" (beam {decode.beam_size}{', LM' if decode.lm else ''})"
                                                if decode.decoder == "beam" else "")
    lines = [f"WER {100 * report.wer:.2f}%  CER {100 * report.cer:.2f}%  ({what})"]
    if word_times and word_times.get("words"):
        w = word_times
        lines.append(f"word times on {w['words']} correctly read words: start error median {w['start_median_ms']:.0f} ms "
                     f"(90%: {w['start_p90_ms']:.0f}), end error median {w['end_median_ms']:.0f} ms "
                     f"(90%: {w['end_p90_ms']:.0f})")
    speakers = report.by_speaker()
    if len(speakers) > 1 or "" not in speakers:
        lines.append("speaker      WER      CER   utts")
        for spk, r in speakers.items():
            lines.append(f"{spk or '-':<10} {100 * r.wer:6.2f}%  {100 * r.cer:6.2f}%  {len(r.utterances):5d}")
    conf = report.top_confusions(top)
    if conf:
        lines.append("most frequent word errors (reference -> hypothesis):")
        for r, h, c in conf:
            lines.append(f"  {r or '<ins>':>10} -> {h or '<del>':<10} {c}")
    return "\n".join(lines)
