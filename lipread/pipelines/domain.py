"""Out-of-domain warnings: say when a clip is unlike what the model was trained on.

A lipreading model always outputs *something* in its training grammar; these checks decide whether
that output deserves trust. The checkpoint carries a ``domain`` section (written by
:func:`calibrate_domain` from the training and validation clips of its cache) and each transcribed
file is compared with it:

- ``motion``: mean absolute frame-to-frame change of the mouth crop (0-255 scale). A still image,
  a silent speaker or a covered mouth barely moves; training clips never do.
- ``brightness``: mean intensity of the mouth crop: a hand, a microphone or a badly lit face is far
  from the training crops.
- ``confidence``: the utterance confidence (:mod:`lipread.decoding.confidence`) below the floor that
  almost no validation clip falls under.
- ``direction``: the same window read backwards. Real speech reads better forwards than backwards;
  a clip that reads better backwards (by more than any validation clip did) is not speech the model
  knows: time-reversed, or lips moving in a way unlike the training speaker's.
- ``duration``: a single-window clip much shorter than the training clips.
- ``speaker``: a voice or a face far from the training speaker's (:mod:`lipread.pipelines.speaker`),
  for models that learned one speaker.

Each warning is one line naming the measure, the clip's value and the training range. Thresholds come
from the data (percentiles with a margin, see :func:`calibrate_domain`), never from tuning on the
out-of-domain examples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# the ranges are widened beyond the training clips' 0.5th-99.5th percentiles by these factors, so
# ordinary held-out clips stay inside
RANGE_MARGIN = 0.5
"""Fraction of the inter-percentile width added on each side of a range."""


def mouth_stats(mouth: np.ndarray) -> dict[str, float]:
    """``motion`` and ``brightness`` of a mouth clip (T, H, W[, C]) uint8."""
    m = np.asarray(mouth, dtype=np.float32)
    motion = float(np.abs(np.diff(m, axis=0)).mean()) if len(m) > 1 else 0.0
    return {"motion": motion, "brightness": float(m.mean())}


def widened_range(values: Sequence[float], low: float = 0.5, high: float = 99.5) -> list[float]:
    lo, hi = np.percentile(np.asarray(values, dtype=np.float64), [low, high])
    pad = RANGE_MARGIN * (hi - lo)
    return [round(float(lo - pad), 4), round(float(hi + pad), 4)]


def domain_warnings(domain: dict | None, stats: dict[str, float], confidence: float | None,
                    direction: tuple[float, float] | None = None, seconds: float | None = None,
                    modality: str | None = None) -> list[str]:
    """Warning lines for one file: ``stats`` from :func:`mouth_stats` (the median over its windows),
    its utterance ``confidence``, its ``direction`` scores (forward, backward) and, for a file read in
    one window, its length in ``seconds``. ``modality``: what an audio-visual model read (its confidence
    floor is the one calibrated for that modality, when the domain has one). No domain section: no warnings."""
    if not domain:
        return []
    out = []
    labels = {"motion": ("the mouth barely moves" , "the mouth moves far more than in training"),
              "brightness": ("the mouth region is much darker than in training",
                             "the mouth region is much brighter than in training (covered or overexposed?)")}
    for key, (low_text, high_text) in labels.items():
        rng = domain.get(key)
        if rng and key in stats:
            value = stats[key]
            if value < rng[0]:
                text = low_text + (" (no speech, a still image or a covered mouth?)" if key == "motion" else "")
                out.append(f"{text}: {key} {value:.2f}, training clips {rng[0]:.2f}-{rng[1]:.2f}")
            elif value > rng[1]:
                out.append(f"{high_text}: {key} {value:.2f}, training clips {rng[0]:.2f}-{rng[1]:.2f}")
    floor = (domain.get("confidence_floors") or {}).get(modality, domain.get("confidence_floor"))
    if floor is not None and confidence is not None and confidence < floor:
        out.append(f"low confidence {confidence:.2f} (held-out clips of the training domain score at least "
                   f"{floor:.2f}): the text is likely wrong")
    margin = domain.get("direction_margin")
    if margin is not None and direction is not None and direction[1] - direction[0] > margin:
        out.append(f"the clip reads better backwards than forwards ({direction[1]:.2f} vs {direction[0]:.2f}): "
                   "not speech of the kind the model was trained on (time-reversed?)")
    shortest = domain.get("min_seconds")
    if shortest and seconds is not None and seconds < 0.5 * shortest:
        out.append(f"the clip is {seconds:.2f} s long; the model was trained on clips of {shortest:.2f} s or more")
    from lipread.pipelines.speaker import speaker_warnings

    return out + speaker_warnings(domain.get("speaker"), stats)


def calibrate_domain(reader, cache: str, description: str = "",
                     confidences: dict[str, list[float]] | None = None,
                     splits: tuple[str | None, str | None] = ("train", "val"), speaker: bool = True) -> dict:
    """The ``domain`` section of a checkpoint, from the ``train`` and ``val`` splits of ``cache``, for the
    model ``reader`` reads (:func:`lipread.readers.reader_for`, with the decoder that ships).

    Ranges of motion and brightness from the training clips (:func:`widened_range`); the confidence
    floor is the validation clips' lowest utterance confidence less 0.05 and the direction margin
    their largest backward-minus-forward score plus 0.05, so no validation clip warns.

    ``confidences``: the validation clips' utterance confidences per modality, when the caller has read them
    (:func:`attention_confidences` for a model that reads sound): ``confidence_floor`` is then the lowest
    floor and ``confidence_floors`` holds one per modality. Without them, the clips are read here from the lips
    (modality video) and that is the one floor. The direction check reads the lips with the reader's lip model
    either way. ``splits``: the (training, validation) splits (None: every clip).
    """
    import torch

    from lipread.data import PreparedDataset, collate

    train = PreparedDataset(cache, split=splits[0], tokenizer=reader.tokenizer, audio=False)
    stats = [mouth_stats(train.reader.mouth(c)) for c in train.clips]
    val = PreparedDataset(cache, split=splits[1], tokenizer=reader.tokenizer, audio=False)
    device = reader.device
    own, gaps = [], []
    for start in range(0, len(val), 8):
        samples = [val[i] for i in range(start, min(len(val), start + 8))]
        batch = collate(samples).to(device)
        with torch.no_grad():
            if confidences:
                lips = reader.lip_reading(batch.video, batch.video_lengths)
            else:
                reading = reader.read_batch(batch, "video")
                own += [nbest[0].confidence or 0.0 if nbest else 0.0 for nbest in reading.nbests]
                lips = reading.lips
        scores = reader.direction_scores([s.video for s in samples], lips)
        gaps += [b - f for f, b in scores]
    lowest = min(own) if own else min(min(c) for c in confidences.values())
    fps = train.clips[0].fps or 25.0
    domain = {
        "description": description,
        "motion": widened_range([s["motion"] for s in stats]),
        "brightness": widened_range([s["brightness"] for s in stats]),
        "confidence_floor": round(max(0.0, lowest - 0.05), 4),
        "direction_margin": round(max(gaps) + 0.05, 4),
        "min_seconds": round(min(train.lengths) / fps, 3),
        "calibration": {"train_clips": len(train), "val_clips": len(val),
                        "val_confidence_min": round(lowest, 4),
                        "val_direction_gap_max": round(max(gaps), 4)},
    }
    if speaker:
        from lipread.pipelines.speaker import calibrate_speaker

        domain["speaker"] = calibrate_speaker(cache, splits[0])
    if confidences:
        domain["confidence_floors"] = {m: round(max(0.0, min(c) - 0.05), 4) for m, c in confidences.items()}
        domain["calibration"]["val_confidence_min_by_modality"] = {m: round(min(c), 4) for m, c in confidences.items()}
    return domain


def record_domain(folder, cache: str, description: str = "") -> dict:
    """Calibrate the out-of-domain checks of the checkpoint ``folder`` (read with its stored decoder) on the
    train and val splits of ``cache`` and store them in its ``config.json`` under ``domain``; returns them.
    A model that reads sound gets a confidence floor per modality, each read as ``lipread evaluate`` reads it
    (:func:`attention_confidences`); a lips-only one is read from the lips."""
    import json
    from pathlib import Path

    from lipread.models.checkpoint import load_model
    from lipread.readers import reader_for
    from lipread.readers.options import resolve_decode_options, stored_decoder
    from lipread.text import Tokenizer

    model, config = load_model(folder)
    options = resolve_decode_options(stored_decoder(config, folder))
    reader = reader_for(model, Tokenizer.from_dict(config["tokenizer"]), options)
    confidences = attention_confidences(str(folder), cache, options, reader.modalities) if reader.reads_audio else None
    domain = calibrate_domain(reader, cache, description, confidences=confidences)
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text())
    config["domain"] = domain
    path.write_text(json.dumps(config, indent=2))
    return domain


def attention_confidences(checkpoint: str, cache: str, options, modalities=("video", "av", "audio"),
                          batch_size: int = 8, split: str = "val") -> dict[str, list[float]]:
    """Utterance confidences of the validation clips of ``cache`` read by the attention model at
    ``checkpoint`` (folder or zoo name) with ``options`` (its stored decoder), per modality (the same
    decoding as ``lipread evaluate``; av and audio need a cache prepared with ``--audio``)."""
    from lipread.pipelines.evaluate import evaluate

    out = {}
    for modality in modalities:
        result = evaluate(checkpoint, cache, split=split, options=options, batch_size=batch_size, modality=modality)
        out[modality] = [h.confidence or 0.0 for h in result.best.values()]
    return out


__all__ = ["attention_confidences", "calibrate_domain", "record_domain", "domain_warnings", "mouth_stats", "widened_range"]
