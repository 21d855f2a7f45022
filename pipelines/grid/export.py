"""Export a trained GRID checkpoint into the model zoo as a small, self-contained folder.

    python pipelines/grid/export.py runs/grid-lipnet-small/best models/lipnet-grid-s1 \
        --decoder beam --beam-size 20 --lm-weight 1.0 --word-score 0.0

Writes ``model.safetensors`` (fp16), ``config.json`` (model, vocabulary, crop settings, decoder
settings with the GRID LM and lexicon copied beside it), ``vocabulary.json``, ``grid_3gram.arpa``
and ``lexicon.txt``. With ``--cache``, it then evaluates the exported model itself (fp16 weights,
stored decoder) on ``--split`` of that prepared cache and records WER/CER (and the word-time error
against the ``.align`` times) in ``config.json`` under ``evaluation``: tests/zoo checks that
``lipread evaluate`` reproduces them. It also calibrates the out-of-domain checks on the cache's
train and val splits (``lipread.pipelines.domain.calibrate_domain``) into ``domain``. The model card
(``README.md``) is written by hand from RESULTS.md and copied in with ``--card``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from lipread.decoding.lm import GRID_LEXICON, GRID_LM, grid_lm_files
from lipread.models.checkpoint import load_model, save_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="a checkpoint folder, e.g. runs/grid-lipnet-small/best")
    ap.add_argument("out", help="the zoo folder to write, e.g. models/lipnet-grid-s1")
    ap.add_argument("--decoder", choices=["greedy", "beam"], default="beam")
    ap.add_argument("--beam-size", type=int, default=20)
    ap.add_argument("--lm-weight", type=float, default=1.0)
    ap.add_argument("--word-score", type=float, default=0.0)
    ap.add_argument("--flip-average", action="store_true",
                    help="store test-time flip averaging (posteriors of the clip and its mirror image) with the decoder")
    ap.add_argument("--window-lead", type=float, default=None,
                    help="the share of a long file's window silence placed before its utterance (stored as "
                         "windows.lead; default 0.25): choose it on the dev recordings of benchmarks/long_video.py")
    ap.add_argument("--card", default=None, help="a model card (markdown) to copy in as README.md")
    ap.add_argument("--cache", default=None, help="a prepared cache to evaluate the exported model on")
    ap.add_argument("--split", default="val")
    a = ap.parse_args()

    model, config = load_model(a.checkpoint)
    out = Path(a.out)
    keep = {k: config[k] for k in ("tokenizer", "preprocess", "step", "metrics", "train") if k in config}
    decoder = {"name": a.decoder}
    if a.decoder == "beam":
        decoder.update(beam_size=a.beam_size, lm=GRID_LM, lexicon=GRID_LEXICON,
                       lm_weight=a.lm_weight, word_score=a.word_score)
    if a.flip_average:
        decoder["flip_average"] = True
    keep["decoder"] = decoder
    if a.window_lead is not None:
        keep["windows"] = {"lead": a.window_lead}
    keep["source_checkpoint"] = str(a.checkpoint)
    card = Path(a.card).read_text() if a.card else None
    save_model(out, model, keep, dtype=torch.float16)
    arpa, lexicon = grid_lm_files()
    shutil.copy(arpa, out / GRID_LM)
    shutil.copy(lexicon, out / GRID_LEXICON)
    (out / "vocabulary.json").write_text(json.dumps(config["tokenizer"], indent=2))
    if card:
        (out / "README.md").write_text(card)
    size = (out / "model.safetensors").stat().st_size
    print(f"wrote {out} (weights {size / 1e6:.2f} MB, decoder {decoder})")
    if a.cache:
        record_evaluation(out, a.cache, a.split)
        record_domain(out, a.cache)


def record_evaluation(out: Path, cache: str, split: str) -> None:
    """Evaluate the exported folder with its stored decoder and write the result into config.json."""
    from lipread.pipelines.evaluate import DecodeOptions, evaluate, stored_decoder

    config = json.loads((out / "config.json").read_text())
    result = evaluate(str(out), cache, split=split, options=DecodeOptions(**stored_decoder(config, out)))
    config["evaluation"] = {"split": split, "clips": len(result.hypotheses), "wer": result.report.wer,
                            "cer": result.report.cer, "decoder": config["decoder"],
                            "word_times": result.word_times,
                            "data": "GRID speaker 1, the seeded 10% validation split (seed 0)"}
    (out / "config.json").write_text(json.dumps(config, indent=2))
    print(f"{split}: WER {100 * result.report.wer:.2f}%  CER {100 * result.report.cer:.2f}%  "
          f"({len(result.hypotheses)} clips)")


def record_domain(out: Path, cache: str) -> None:
    """Calibrate the out-of-domain checks of the exported model on the cache (its stored decoder) and store them
    in config.json (:func:`lipread.pipelines.domain.record_domain`)."""
    from lipread.data.corpora.grid import DOMAIN_DESCRIPTION
    from lipread.pipelines.domain import record_domain as record

    print(f"domain: {json.dumps(record(out, cache, DOMAIN_DESCRIPTION))}")


if __name__ == "__main__":
    main()
