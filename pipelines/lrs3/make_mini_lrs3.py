"""Build a miniature LRS3 corpus, in the real LRS3 layout, from the GRID clips of speaker 1.

    python pipelines/lrs3/make_mini_lrs3.py ../shared/data/grid /tmp/mini_lrs3 [--pretrain 40 --trainval 120 --test 30]

Layout written (as LRS3-TED v0.4 ships it)::

    OUT/pretrain/VIDEO_ID/00001.mp4   H.264 + AAC; two GRID sentences played one after the other (6 s, 12 words)
    OUT/pretrain/VIDEO_ID/00001.txt   Text: / Conf: headers, then the WORD START END ASDSCORE table
    OUT/trainval/VIDEO_ID/00001.{mp4,txt}   one GRID sentence each (the GRID mp4, copied)
    OUT/test/VIDEO_ID/00001.{mp4,txt}

Transcripts are upper case with word times in seconds from the clip's start, taken from GRID's
``alignments/s1/*.align`` (1/25000 s ticks); the ASDSCORE column is a constant (GRID has no
active-speaker score). VIDEO_IDs are 11-character YouTube-like names, six clips per "video", so a
speaker folder holds several clips as in LRS3. Clips are drawn from a seeded shuffle of the GRID
clips, each used once. The build is deterministic; it needs PyAV (a lipread dependency) only to
join the pretrain pairs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np

ALIGN_TICKS = 25000.0
CLIPS_PER_VIDEO = 6


def video_id(name: str) -> str:
    """An 11-character YouTube-like id, stable for ``name``."""
    digest = hashlib.blake2b(name.encode(), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode()[:11]


def read_words(align: Path, offset: float = 0.0) -> list[tuple[str, float, float]]:
    words = []
    for line in align.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] not in ("sil", "sp"):
            words.append((parts[2].upper(), offset + int(parts[0]) / ALIGN_TICKS, offset + int(parts[1]) / ALIGN_TICKS))
    return words


def lrs3_transcript(words: list[tuple[str, float, float]], conf: int = 4) -> str:
    """An LRS3 ``N.txt``: ``Text:``, ``Conf:``, a blank line, the word table (two decimals)."""
    lines = [f"Text:  {' '.join(w for w, _, _ in words)}", f"Conf:  {conf}", "", "WORD START END ASDSCORE"]
    lines += [f"{w} {s:.2f} {e:.2f} 5.0" for w, s, e in words]
    return "\n".join(lines) + "\n"


def join_clips(sources: list[Path], out: Path) -> float:
    """Write ``sources`` one after the other as one H.264 + AAC mp4; returns each source's duration (s)."""
    import av

    from lipread.io.audio import read_audio
    from lipread.io.video import read_video

    frames = [read_video(p).frames for p in sources]
    sr = 16000
    audio = [read_audio(p, sample_rate=sr) for p in sources]
    per_clip = frames[0].shape[0] / 25.0
    # each part's audio is cut or padded to its video length, so the word times of part k shift by k * per_clip
    audio = np.concatenate([np.pad(a, (0, max(0, int(f.shape[0] / 25.0 * sr) - len(a))))[: int(f.shape[0] / 25.0 * sr)]
                            for a, f in zip(audio, frames)])
    video = np.concatenate(frames)
    with av.open(str(out), "w") as container:
        vs = container.add_stream("libx264", rate=Fraction(25), options={"crf": "18", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = video.shape[2], video.shape[1], "yuv420p"
        aus = container.add_stream("aac", rate=sr, layout="mono")
        for img in video:
            for packet in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        step = 1024
        for k in range(0, len(audio), step):
            frame = av.AudioFrame.from_ndarray(audio[None, k : k + step].astype(np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = sr, k
            for packet in aus.encode(frame):
                container.mux(packet)
        for packet in aus.encode():
            container.mux(packet)
    return per_clip


def build(grid: Path, out: Path, n_pretrain: int, n_trainval: int, n_test: int, seed: int = 0) -> dict[str, int]:
    """Write the mini corpus; returns clips per subset."""
    videos = sorted((grid / "s1").glob("*.mp4"))
    videos = [v for v in videos if (grid / "alignments" / "s1" / f"{v.stem}.align").is_file()]
    need = 2 * n_pretrain + n_trainval + n_test
    if len(videos) < need:
        raise SystemExit(f"{grid}: {len(videos)} aligned GRID clips in s1/, {need} needed")
    random.Random(seed).shuffle(videos)
    align = {v: grid / "alignments" / "s1" / f"{v.stem}.align" for v in videos}
    plan = {"test": [[v] for v in videos[:n_test]],
            "trainval": [[v] for v in videos[n_test : n_test + n_trainval]]}
    rest = videos[n_test + n_trainval : need]
    plan["pretrain"] = [rest[2 * k : 2 * k + 2] for k in range(n_pretrain)]
    if out.exists():
        shutil.rmtree(out)
    for subset, items in plan.items():
        for k, sources in enumerate(items):
            folder = out / subset / video_id(f"{subset}/{k // CLIPS_PER_VIDEO}")
            folder.mkdir(parents=True, exist_ok=True)
            stem = folder / f"{k % CLIPS_PER_VIDEO + 1:05d}"
            if len(sources) == 1:
                shutil.copyfile(sources[0], stem.with_suffix(".mp4"))
                words = read_words(align[sources[0]])
            else:
                per_clip = join_clips(sources, stem.with_suffix(".mp4"))
                words = [w for j, src in enumerate(sources) for w in read_words(align[src], j * per_clip)]
            stem.with_suffix(".txt").write_text(lrs3_transcript(words))
    return {subset: len(items) for subset, items in plan.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid", type=Path, help="GRID root with s1/*.mp4 and alignments/s1/*.align")
    parser.add_argument("out", type=Path, help="output folder (replaced)")
    parser.add_argument("--pretrain", type=int, default=40, help="pretrain clips (two GRID sentences each)")
    parser.add_argument("--trainval", type=int, default=120)
    parser.add_argument("--test", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = build(args.grid, args.out, args.pretrain, args.trainval, args.test, args.seed)
    print(f"wrote {args.out}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))


if __name__ == "__main__":
    main()
