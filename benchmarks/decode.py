"""CTC decoding speed: utterances/s for greedy and beam search (10, 100) with and without the GRID LM.

Inputs are 75-frame, 28-symbol (GRID vocabulary + blank) log-probs of two kinds:
``random`` (log-softmax of unit Gaussians: flat, the worst case for a beam) and ``peaked``
(a random GRID-grammar sentence laid out over the frames with noise, like a trained model's
output; the word accuracy of each decoder on these is recorded too)::

    nice python benchmarks/decode.py --out benchmarks/results/decode.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from _machine import machine_info

from lipread.decoding import build_decoder
from lipread.text import Tokenizer
from lipread.text.grid import grid_sentences

TOK = Tokenizer.from_name("grid")
T, V = 75, TOK.ctc_size


def random_log_probs(n: int, seed: int) -> torch.Tensor:
    """(n, T, V) flat random log-probs."""
    return torch.randn(n, T, V, generator=torch.Generator().manual_seed(seed)).log_softmax(-1)


def peaked_log_probs(n: int, seed: int, noise: float = 1.0, peak: float = 4.0) -> tuple[torch.Tensor, list[str]]:
    """(n, T, V) log-probs spelling random GRID sentences (letters at random frames, blanks between)."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    sentences = list(grid_sentences())
    texts = [" ".join(rng.choice(sentences)) for _ in range(n)]
    logits = torch.randn(n, T, V, generator=g) * noise
    for i, text in enumerate(texts):
        ids = TOK.encode(text)
        frames = sorted(rng.sample(range(1, T - 1), len(ids)))
        logits[i, :, 0] += peak  # blank elsewhere
        for f, k in zip(frames, ids):
            logits[i, f, k] += 2 * peak
    return logits.log_softmax(-1), texts


def rate(decoder, log_probs: torch.Tensor) -> tuple[float, list[str]]:
    """Utterances per second decoding ``log_probs`` one batch at a time; and the 1-best texts."""
    decoder.decode(log_probs[:2])  # warm up
    t = time.perf_counter()
    hyps = decoder.decode(log_probs, torch.full((log_probs.shape[0],), T))
    elapsed = time.perf_counter() - t
    return log_probs.shape[0] / elapsed, [h[0].text for h in hyps]


def word_accuracy(hyps: list[str], refs: list[str]) -> float:
    from lipread.metrics import score

    return 1.0 - score(refs, hyps).wer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=200, help="utterances per setting (beam 100: a quarter)")
    parser.add_argument("--lm-weight", type=float, default=1.0)
    parser.add_argument("--word-score", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "decode.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    settings = {"greedy": ("greedy", {})}
    for beam in (10, 100):
        settings[f"beam{beam}"] = ("beam", {"beam_size": beam})
        settings[f"beam{beam}_lexicon"] = ("beam", {"beam_size": beam, "lexicon": "grid"})
        settings[f"beam{beam}_lexicon_grid_lm"] = ("beam", {"beam_size": beam, "lexicon": "grid", "lm": "grid",
                                                            "lm_weight": args.lm_weight, "word_score": args.word_score})
    results: dict = {"frames": T, "vocab": V, "inputs": {}}
    for kind in ("random", "peaked"):
        rows = {}
        for name, (decoder_name, options) in settings.items():
            n = args.utterances // 4 if options.get("beam_size") == 100 else args.utterances
            if kind == "random":
                lp, refs = random_log_probs(n, seed=0), None
            else:
                lp, refs = peaked_log_probs(n, seed=0)
            decoder = build_decoder(decoder_name, TOK, **options)
            ups, hyps = rate(decoder, lp)
            row = {"utterances": n, "utterances_per_s": round(ups, 1), "options": options}
            if refs is not None:
                row["word_accuracy"] = round(word_accuracy(hyps, refs), 4)
            rows[name] = row
            print(kind, name, row, flush=True)
        results["inputs"][kind] = rows
    results["threads"] = 1
    results["machine"] = machine_info(("torch", "numpy", "flashlight-text"))
    results["command"] = "nice python benchmarks/decode.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
