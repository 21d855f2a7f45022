"""Average the last checkpoints of a training run into one checkpoint folder (checkpoint averaging).

    python pipelines/grid/average.py ~/runs/grid-wlas-watch --last 2 -o ~/runs/grid-wlas-watch/avg2

Reads ``RUN/checkpoints/step_*`` (the trainer keeps ``keep_last`` of them), averages the newest ``--last``
with ``lipread.models.checkpoint.average_checkpoints`` and writes a checkpoint folder that `lipread evaluate`
and the export scripts read like any other.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lipread.models.checkpoint import average_checkpoints


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a run folder (with checkpoints/step_*)")
    ap.add_argument("--last", type=int, default=2, help="how many of the newest checkpoints to average")
    ap.add_argument("-o", "--out", required=True, help="the checkpoint folder to write")
    a = ap.parse_args()
    steps = sorted(Path(a.run).expanduser().glob("checkpoints/step_*"))
    if len(steps) < a.last:
        ap.error(f"{a.run} has {len(steps)} checkpoints, fewer than --last {a.last}")
    chosen = steps[-a.last:]
    out = average_checkpoints(chosen, Path(a.out).expanduser())
    print(f"averaged {', '.join(p.name for p in chosen)} -> {out}")


if __name__ == "__main__":
    main()
