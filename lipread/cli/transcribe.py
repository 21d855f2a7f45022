"""`lipread transcribe VIDEO...`: text and subtitles from video files."""

from __future__ import annotations

import logging
import time

import click

from lipread.cli._common import (
    CONTEXT,
    OUTPUT_DIR_HELP,
    batch_result,
    check_unique_stems,
    decoder_options,
    modality_option,
)
from lipread.device import DEVICE_HELP

log = logging.getLogger("lipread.transcribe")

FORMATS = ["txt", "srt", "vtt", "json"]

FACE_HELP = ("Which face to read when several are seen: auto (the one whose mouth moves with the sound; without "
             "sound the one whose mouth moves most), largest, or N (0 = the leftmost face when first seen).")


def _check_face(ctx, param, value):
    from lipread.errors import UsageError
    from lipread.face.track import check_face_option

    try:
        return check_face_option(value)
    except UsageError as exc:
        raise click.BadParameter(f"{value!r}: use auto, largest or a face number (0 = leftmost)") from exc


def face_option():
    return click.option("--face", metavar="auto|largest|N", default="auto", show_default=True, callback=_check_face,
                        help=FACE_HELP)


@click.command("transcribe", context_settings=CONTEXT, short_help="Text and subtitles (with word times) from videos.")
@click.argument("videos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-m", "--model", default="wlas-grid-s1", show_default=True,  # = lipread.models.zoo.DEFAULT_MODEL (no torch import here)
              help="Zoo model name (see `lipread models`) or checkpoint folder.")
@click.option("-f", "--format", "formats", multiple=True, default=["all"], metavar="FORMAT",
              help="Output format: txt, srt, vtt, json or all; repeat it or give a comma list (-f srt,vtt).")
@click.option("-o", "--output-dir", metavar="DIR", default=".", type=click.Path(),
              help=OUTPUT_DIR_HELP + " Files are named after each input: clip.mp4 -> clip.txt ...")
@decoder_options()
@click.option("--device", metavar="DEVICE", default="auto", help=DEVICE_HELP)
@click.option("--batch-size", type=click.IntRange(min=1), default=4, help="Windows of a long video per model call.")
@modality_option(" and the video has an audio track")
@face_option()
def command(videos, model, formats, output_dir, decoder, beam_size, lm, lexicon, lm_weight, word_score, flip_average,
            length_norm, ctc_weight, grammar, word_timing, device, batch_size, modality, face):
    """Transcribe VIDEO files: text and subtitles with word times.

    The default model (models/wlas-grid-s1) reads GRID-grammar sentences of GRID speaker 1: lips and sound
    when the video has sound, else the lips alone (--modality video: the lips only, always).
    Prints `path<TAB>text` per video on stdout (what `lipread score REF -` reads), and writes the
    formats asked for into the output folder. A file that fails is reported and the others go on (exit 1).
    """
    from lipread.cli._common import split_formats
    from lipread.device import check_device_name
    from lipread.io.output import ensure_output_dir

    fmts = split_formats(formats, FORMATS)
    check_device_name(device)
    check_unique_stems(videos, output_dir)
    ensure_output_dir(output_dir, "-o")

    from lipread.face.backends import landmark_workers, prestart

    # the landmark model starts while torch imports and the model loads: as many trackers as will read a file
    prestart("mediapipe", copies=landmark_workers(0), max_faces=4)
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from lipread.errors import LipreadError
    from lipread.pipelines.transcribe import Transcriber, load_model
    from lipread.pipelines.writers import get_writers
    from lipread.progress import progress_bar

    loaded = load_model(model, device)
    options = loaded.decode_options(decoder=decoder, beam_size=beam_size, lm=lm, lexicon=lexicon,
                                    lm_weight=lm_weight, word_score=word_score,
                                    flip_average=flip_average, length_norm=length_norm,
                                    ctc_weight=ctc_weight, grammar=grammar, word_timing=word_timing)
    transcriber = Transcriber(loaded, options, batch_size=batch_size, modality=modality, face=face)
    log.info("model %s (%s) on %s; %s decoder%s", model, loaded.path, loaded.device, options.decoder,
             f" (beam {options.beam_size}, LM {options.lm or 'none'}, lexicon {options.lexicon or 'none'})"
             if options.decoder == "beam" else "")
    writers = get_writers(fmts, output_dir)
    failures: dict[str, str] = {}
    # lines and log records go through tqdm, so they print above the progress bars, not into them
    with logging_redirect_tqdm(), progress_bar(total=len(videos), desc="transcribe", unit="file",
                                               disable=len(videos) < 2) as files:
        try:
            for path in videos:
                bars: list = []

                def progress(done: int, total: int, path=path, bars=bars) -> None:
                    # a long video (read in blocks and windows) gets its own bar, in seconds of the video
                    if total < 2:
                        return
                    if not bars:
                        bars.append(progress_bar(total=total, desc=click.format_filename(path, shorten=True),
                                                 unit="s", leave=False))
                    bars[0].update(done - bars[0].n)

                t0 = time.perf_counter()
                try:
                    transcript = transcriber.transcribe(path, progress=progress)
                except LipreadError as exc:
                    failures[path] = exc.detail
                    log.error("%s", exc.message)
                    continue
                finally:
                    for bar in bars:
                        bar.close()
                    files.update(1)
                written = [str(w.write(transcript)) for w in writers]
                log.info("%s: %.2f s of video in %.2f s -> %s", path, transcript.duration,
                         time.perf_counter() - t0, ", ".join(written))
                tqdm.write(f"{path}\t{transcript.text}")
        finally:
            transcriber.close()
    log.debug("seconds per stage: %s", {k: round(v, 3) for k, v in transcriber.times.seconds.items()})
    batch_result(failures, len(videos), "video")
