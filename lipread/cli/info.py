"""`lipread info`: media and face information."""

from __future__ import annotations

import json
import logging

import click

from lipread.cli._common import CONTEXT, JSON_HELP, batch_result

log = logging.getLogger("lipread.cli.info")


@click.command("info", context_settings=CONTEXT, short_help="Streams, codecs, size, fps, duration; share of frames with a face.")
@click.argument("videos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--face", is_flag=True,
              help="Also run face landmarks: the share of frames with a face and its size (median width in px).")
@click.option("--landmarks", default="mediapipe", type=click.Choice(["mediapipe", "opencv"]),
              help="Landmark backend for --face (mediapipe falls back to opencv on a video where it finds no face).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP + " (one object per file, one per line)")
def command(videos: tuple[str, ...], face: bool, landmarks: str, as_json: bool):
    """Show streams, codecs, resolution, fps, frame count, duration, audio rate and channels of VIDEO files."""
    from lipread.errors import LipreadError, NoFaceError
    from lipread.face.size import MIN_FACE_WIDTH, median_face_width
    from lipread.io.probe import probe

    failures: dict[str, str] = {}
    front = None
    for path in videos:
        try:
            info = probe(path, count_frames=True)
            data = info.to_dict()
            data["audio"] = any(s["type"] == "audio" for s in data["streams"])
            if face:
                from lipread.frontend import FrontEnd, FrontEndConfig

                # no size check here: info reports the size, small or not
                front = front or FrontEnd(FrontEndConfig(landmarks=landmarks, min_face_width=0))
                try:
                    result = front.process(path)
                    width = median_face_width(result.landmarks, result.valid)
                    data["face"] = {"frames": int(len(result.valid)), "found": float(result.valid.mean()),
                                    "backend": result.backend, "width_px": round(width, 1),
                                    "min_width_px": MIN_FACE_WIDTH, "readable": width >= MIN_FACE_WIDTH}
                except NoFaceError:
                    # every backend was tried (mediapipe, then the opencv fallback) and none found a face
                    frames = next((s["frames"] for s in data["streams"] if s["type"] == "video"), None)
                    data["face"] = {"frames": frames, "found": 0.0,
                                    "backend": landmarks if landmarks == "opencv" else f"{landmarks}, opencv"}
        except LipreadError as exc:
            failures[path] = exc.detail
            log.error("%s", exc.message)
            continue
        click.echo(json.dumps(data) if as_json else _text(data))
    if front is not None:
        front.close()
    batch_result(failures, len(videos))


def _text(data: dict) -> str:
    dur = f"{data['duration']:.3f}s" if data["duration"] else "unknown"
    lines = [f"{data['path']}: {data['format']}, duration {dur}"]
    for s in data["streams"]:
        if s["type"] == "video":
            fps = f"{s['fps']:.3f} fps" if s["fps"] else "fps unknown"
            lines.append(f"  #{s['index']} video {s['codec']} {s['width']}x{s['height']} {fps}, {s['frames']} frames")
        elif s["type"] == "audio":
            lines.append(f"  #{s['index']} audio {s['codec']} {s['sample_rate']} Hz, {s['channels']} channel(s)")
        else:
            lines.append(f"  #{s['index']} {s['type']} {s['codec']}")
    if not data.get("audio"):
        lines.append("  no audio")
    if "face" in data:
        face = data["face"]
        lines.append(f"  face found in {100 * face['found']:.1f}% of frames ({face['backend']})")
        if "width_px" in face:
            small = "" if face["readable"] else f": too small to read lips, at least {face['min_width_px']} px needed"
            lines.append(f"  face {face['width_px']:.0f} px wide (median){small}")
    return "\n".join(lines)
