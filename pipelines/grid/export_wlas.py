"""Export a trained WLAS checkpoint into the zoo and measure it: modality x noise condition -> WER/CER.

    python pipelines/grid/export_wlas.py ~/runs/grid-wlas/best models/wlas-grid-s1 --cache CACHE \
        --results pipelines/grid/results/wlas.json --card pipelines/grid/wlas_card.md [--ctc-weight 0.1]

Writes ``model.safetensors`` (fp16), ``config.json`` (model, vocabulary, crop and audio-feature settings,
the attention beam decoder) and ``vocabulary.json``. With ``--cache`` (a cache prepared with ``--audio``)
it then evaluates the exported model itself on ``--split``:

- greedy and beam, clean sound, in each modality;
- beam with babble at 10, 5, 0 and -5 dB and white noise at 0 dB, for ``audio`` and ``av`` (``video``
  reads no sound, so one clean number stands for every condition);

and writes them as one JSON table (``--results``), recording the ``av`` clean beam result in the model's
``config.json`` under ``evaluation`` (tests/zoo checks that ``lipread evaluate`` reproduces it). It also
calibrates the out-of-domain checks on the cache's train and val splits into ``domain``
(``lipread.pipelines.domain.calibrate_domain``: a confidence floor per modality; the direction check reads
the lips with the Watch encoder's CTC head). Every
number is a ``lipread evaluate`` command; the table lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from lipread.data.corpora.grid import DOMAIN_DESCRIPTION
from lipread.models.checkpoint import load_model, save_model
from lipread.pipelines.domain import record_domain

CONDITIONS = [(None, None), ("babble", 10.0), ("babble", 5.0), ("babble", 0.0), ("babble", -5.0), ("white", 0.0)]


def command_line(model: str, cache: str, split: str, modality: str, decoder: str, noise, snr) -> str:
    timing = " --word-timing ctc" if decoder.endswith("ctc-times") else ""
    cmd = f"lipread evaluate {model} {cache} --split {split} --modality {modality} --decoder {decoder.split('-')[0]}{timing}"
    return cmd + (f" --noise {noise} --snr {snr:g}" if noise else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", nargs="?", help="a checkpoint folder, e.g. ~/runs/grid-wlas/best")
    ap.add_argument("out", nargs="?", help="the zoo folder to write, e.g. models/wlas-grid-s1")
    ap.add_argument("--beam-size", type=int, default=8)
    ap.add_argument("--length-norm", type=float, default=0.0)
    ap.add_argument("--ctc-weight", type=float, default=0.0,
                    help="stored joint CTC/attention weight of the beam (chosen on validation clips)")
    ap.add_argument("--flip-average", action="store_true",
                    help="store test-time flip averaging (the lip encoder's states of the clip and its mirror image)")
    ap.add_argument("--card", default=None, help="a model card (markdown) to copy in as README.md")
    ap.add_argument("--cache", default=None, help="a prepared cache (with --audio) to evaluate the exported model on")
    ap.add_argument("--split", default="val")
    ap.add_argument("--results", default=None, help="write the table of results here (JSON)")
    ap.add_argument("--quick", action="store_true", help="only the clean conditions")
    ap.add_argument("--table", default=None, help="print the markdown table of a results JSON and stop")
    a = ap.parse_args()
    if a.table:
        print(markdown_table(json.loads(Path(a.table).read_text())["rows"]))
        return
    if not (a.checkpoint and a.out):
        ap.error("give the checkpoint folder and the zoo folder to write")

    model, config = load_model(a.checkpoint)
    out = Path(a.out)
    keep = {k: config[k] for k in ("tokenizer", "preprocess", "step", "metrics", "train", "averaged_from") if k in config}
    keep["decoder"] = {"name": "beam", "beam_size": a.beam_size, "length_norm": a.length_norm}
    if a.ctc_weight:
        keep["decoder"]["ctc_weight"] = a.ctc_weight
    if a.flip_average:
        keep["decoder"]["flip_average"] = True
    keep["source_checkpoint"] = str(a.checkpoint)
    card = Path(a.card).read_text() if a.card else None
    save_model(out, model, keep, dtype=torch.float16)
    (out / "vocabulary.json").write_text(json.dumps(config["tokenizer"], indent=2))
    size = (out / "model.safetensors").stat().st_size
    print(f"exported {a.checkpoint} -> {out} ({size / 2**20:.1f} MB fp16)")
    if a.cache:
        domain = record_domain(out, a.cache, DOMAIN_DESCRIPTION)
        print(f"domain: {json.dumps(domain)}")
    rows = evaluate_table(out, a) if a.cache else None
    if card:
        if rows and TABLE_MARK in card:
            card = card.replace(TABLE_MARK, markdown_table(rows))
        (out / "README.md").write_text(card)


TABLE_MARK = "<!-- TABLE -->"


def markdown_table(rows: list[dict]) -> str:
    """Modality x condition -> beam WER / CER (and greedy on clean sound), as a markdown table."""
    def cell(modality, decoder, noise, snr):
        if modality == "video":  # lips only: the sound's noise does not reach the model
            noise = snr = None
        for r in rows:
            if (r["modality"], r["decoder"], r["noise"], r["snr_db"]) == (modality, decoder, noise, snr):
                return f"{100 * r['wer']:.2f}% / {100 * r['cer']:.2f}%"
        return "-"

    heads = ["clean, greedy", "clean"] + [f"{n} {s:g} dB" for n, s in CONDITIONS if n]
    lines = ["| modality | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    for m in ("audio", "video", "av"):
        cells = [cell(m, "greedy", None, None), cell(m, "beam", None, None)]
        cells += [cell(m, "beam", n, s) for n, s in CONDITIONS if n]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate_table(out: Path, a) -> list[dict]:
    from lipread.pipelines.evaluate import evaluate

    rows = []
    recorded = None
    jobs = [(m, d, None, None) for m in ("av", "audio", "video") for d in ("greedy", "beam")]
    if not a.quick:
        jobs += [(m, "beam", n, s) for m in ("av", "audio") for n, s in CONDITIONS if n]
    # word times from the CTC branch instead of the align head, to compare (clean, beam)
    jobs += [(m, "beam-ctc-times", None, None) for m in ("av", "video")]
    for modality, decoder, noise, snr in jobs:
        t0 = time.perf_counter()
        timing = "ctc" if decoder.endswith("ctc-times") else None
        result = evaluate(str(out), a.cache, split=a.split, decoder=decoder.split("-")[0], modality=modality,
                          noise=noise, snr=snr, word_timing=timing)
        seconds = time.perf_counter() - t0
        row = {"modality": modality, "decoder": decoder, "noise": noise, "snr_db": snr,
               "wer": result.report.wer, "cer": result.report.cer, "clips": len(result.report.utterances),
               "word_times": result.word_times, "seconds": round(seconds, 1),
               "command": command_line(str(out), a.cache, a.split, modality, decoder, noise, snr)}
        rows.append(row)
        print(f"{modality:5s} {decoder:6s} {noise or 'clean':6s} {'' if snr is None else snr:>5} "
              f"WER {100 * row['wer']:6.2f}%  CER {100 * row['cer']:6.2f}%  ({seconds:.0f} s)", flush=True)
        if modality == "av" and decoder == "beam" and noise is None:
            recorded = {"split": a.split, "clips": row["clips"], "wer": row["wer"], "cer": row["cer"],
                        "modality": "av", "word_times": result.word_times}
    if recorded is not None:
        # each modality's clean beam result (`lipread models` lists them)
        recorded["by_modality"] = {r["modality"]: {"wer": r["wer"], "cer": r["cer"]} for r in rows
                                   if r["decoder"] == "beam" and r["noise"] is None}
        cfg_path = out / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["evaluation"] = recorded
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    if a.results:
        table = {"model": str(out), "cache": a.cache, "split": a.split, "rows": rows,
                 "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                             "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                             "load_average": os.getloadavg()},
                 "date": time.strftime("%Y-%m-%d %H:%M")}
        Path(a.results).write_text(json.dumps(table, indent=2) + "\n")
        print(f"results -> {a.results}")
    print(markdown_table(rows))
    return rows


if __name__ == "__main__":
    main()
