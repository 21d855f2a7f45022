"""Build the GRID word LM and lexicon shipped in this folder.

    python pipelines/grid/make_lm.py            # -> grid_3gram.arpa, lexicon.txt
    python pipelines/grid/make_lm.py --order 2  # -> grid_2gram.arpa

The LM is an interpolated Witten-Bell trigram over all 64,000 sentences of the GRID grammar
(lipread.text.grid), so it spreads probability evenly inside each slot and almost nothing outside
the grammar. The output is deterministic; the committed files are what this script writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lipread.decoding.lm import build_grid_lm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", type=int, default=3, help="n-gram order (>= 2)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    arpa, lexicon = build_grid_lm(args.out_dir, args.order)
    print(f"wrote {arpa} and {lexicon}")


if __name__ == "__main__":
    main()
