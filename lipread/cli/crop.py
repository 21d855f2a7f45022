"""`lipread crop`: stable mouth-region crops of videos, as lossless clips plus landmarks."""

from __future__ import annotations

import logging
import os

import click

from lipread.cli._common import CONTEXT, OUTPUT_DIR_HELP, batch_result, check_unique_stems
from lipread.cli.transcribe import face_option

log = logging.getLogger("lipread.cli.crop")


@click.command("crop", context_settings=CONTEXT, short_help="Stable mouth-region clips (lossless) and landmarks.")
@click.argument("videos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", metavar="DIR", default=".", type=click.Path(),
              help=OUTPUT_DIR_HELP + " Files are named after each input: clip.mp4 -> clip.mkv, clip.npz.")
@click.option("--preset", default="lipnet", type=click.Choice(["lipnet", "aligned96", "aligned48"]),
              help="lipnet: 100x50 RGB (LipNet); aligned96: 96x96 (modern VSR, crop 88x88 to train).")
@click.option("--gray", is_flag=True, help="One grey channel instead of RGB.")
@click.option("--overlay", is_flag=True, help="Also write <name>.overlay.mp4: the source with landmarks and crop box.")
@click.option("--landmarks", default="mediapipe", type=click.Choice(["mediapipe", "opencv"]),
              help="Landmark backend (mediapipe falls back to opencv on a video where it finds no face).")
@click.option("--format", "fmt", default="mkv", type=click.Choice(["mkv", "mp4"]),
              help="mkv: FFV1 lossless; mp4: H.264 CRF 0 (lossless YUV 4:4:4).")
@face_option()
def command(videos, output_dir, preset, gray, overlay, landmarks, fmt, face):
    """Crop stable mouth regions from VIDEO files.

    For each VIDEO writes <name>.<format> (the mouth clip at 25 fps) and <name>.npz with
    `landmarks` (T, N, 2) source pixels, `valid` (T,) face found, `transforms` (T, 2, 3) source->crop,
    `face` (T,) the face read per frame, plus `fps`, `start`, `frame_size`, `preset`, `backend`, `faces_json`
    (every face's id and box) and `face_choice_json` (which face was read where, and why). A bad file is reported and the rest go on.
    """
    from lipread.io.output import ensure_output_dir

    check_unique_stems(videos, output_dir)
    ensure_output_dir(output_dir, "-o")

    from tqdm.contrib.logging import logging_redirect_tqdm

    from lipread.errors import LipreadError
    from lipread.frontend import FrontEnd, FrontEndConfig
    from lipread.progress import progress_bar

    front = FrontEnd(FrontEndConfig(preset=preset, gray=gray, landmarks=landmarks, face=face))
    failures: dict[str, str] = {}
    with logging_redirect_tqdm(), progress_bar(videos, desc="crop", unit="file", disable=len(videos) < 2,
                                               position=0) as files:
        try:
            for path in files:
                try:
                    _crop_one(front, path, output_dir, fmt, overlay)
                except LipreadError as exc:
                    failures[path] = exc.detail
                    log.error("%s", exc.message)
        finally:
            front.close()
    batch_result(failures, len(videos))


def _crop_one(front, path: str, output_dir: str, fmt: str, overlay: bool) -> None:
    import json

    import numpy as np

    from lipread.io.probe import probe
    from lipread.io.writer import write_video
    from lipread.progress import progress_bar

    info = probe(path)
    total = round(info.duration * 25) if info.duration else None
    stem = os.path.join(output_dir, os.path.splitext(os.path.basename(path))[0])
    with progress_bar(total=total, desc=os.path.basename(path), unit="frame", leave=False, position=1) as bar:
        result = front.process(path, progress=bar.update)
    if result.report is not None and result.report.truncated:
        log.warning("%s: truncated; cropped %d frames, %.2fs lost", path, len(result.valid), result.report.lost_seconds)
    write_video(f"{stem}.{fmt}", result.mouth, fps=result.fps)
    np.savez_compressed(
        f"{stem}.npz", landmarks=result.landmarks, valid=result.valid, transforms=result.transforms,
        fps=result.fps, start=result.start, frame_size=np.array(result.frame_size), preset=front.config.preset,
        backend=result.backend, face=result.face, faces_json=json.dumps(result.faces),
        face_choice_json=json.dumps(result.face_choice))
    if overlay:
        from lipread.face.overlay import draw_overlay
        from lipread.io.video import iter_video_chunks
        from lipread.io.writer import VideoWriter

        with VideoWriter(f"{stem}.overlay.mp4", result.fps, codec="libx264", options={"crf": "20"}) as writer:
            for chunk in iter_video_chunks(path, 64):
                sl = slice(chunk.index, chunk.index + len(chunk.frames))
                writer.write(draw_overlay(chunk.frames, result.landmarks[sl], result.valid[sl],
                                          result.transforms[sl], front.preset.size))
    log.info("%s: %d frames -> %s.%s (face in %.0f%%)", path, len(result.valid), stem, fmt, 100 * result.valid.mean())
