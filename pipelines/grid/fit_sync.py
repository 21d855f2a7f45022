"""Refit the audio-visual synchrony predictor (``lipread/face/sync_predictor.json``) on GRID training clips.

    python pipelines/grid/fit_sync.py ../shared/data/grid [--clips 150]

A ridge regression from the sound's log-mel bands (with context) to the mouth's opening, fit on every 5th
GRID speaker-1 training clip with a face in every frame (:func:`lipread.face.sync.fit_predictor`). Run once;
the result is committed and ships in the wheel.
"""

from __future__ import annotations

import argparse
import json

from lipread.data.corpora.grid import read_grid
from lipread.face.sync import CONTEXT, N_MELS, PREDICTOR_PATH, fit_predictor
from lipread.frontend import FrontEnd, FrontEndConfig
from lipread.io.audio import read_audio


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", help="the GRID folder (videos and alignments)")
    ap.add_argument("--clips", type=int, default=150)
    args = ap.parse_args(argv)
    entries = [e for e in read_grid(args.root) if e.split == "train"][::5][: args.clips]
    front = FrontEnd(FrontEndConfig())
    items = []
    for e in entries:
        r = front.process(e.record.video)
        if r.valid.all():
            items.append((r.landmarks, read_audio(e.record.video)))
    w = fit_predictor(items, front.geometry)
    PREDICTOR_PATH.write_text(json.dumps({
        "source": f"ridge fit on {len(items)} GRID s1 training clips (every 5th, all frames with a face)",
        "n_mels": N_MELS, "context": CONTEXT, "weights": [round(float(v), 6) for v in w]}, indent=0) + "\n")
    print(f"{PREDICTOR_PATH}: {len(items)} clips")


if __name__ == "__main__":
    main()
