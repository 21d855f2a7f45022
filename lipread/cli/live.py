"""`lipread live [SOURCE]`: read lips as they move, from a camera, a stream, or a file played at its pace."""

from __future__ import annotations

import json
import logging
import sys

import click

from lipread.cli._common import CONTEXT, decoder_options, modality_option
from lipread.device import DEVICE_HELP

log = logging.getLogger("lipread.live")


@click.command("live", context_settings=CONTEXT, short_help="Read lips live: a camera, a stream or a paced file.")
@click.argument("source", required=False, default="0")
@click.option("-m", "--model", default="wlas-grid-s1", show_default=True,
              help="Zoo model name (see `lipread models`) or checkpoint folder.")
@click.option("--realtime", is_flag=True, default=False,
              help="Deliver a file's frames and sound at its own pace, as a camera would (frames the reader "
                   "cannot take in time are skipped and counted). Cameras and streams are always real time.")
@click.option("--wait", is_flag=True, default=False,
              help="Print an utterance only once no short one can join it (up to 1 s after its pause: a sentence's "
                   "last word after a closure), so no line is ever revised. Without it, each utterance is printed "
                   "when a 0.3-s pause follows it and printed again, marked revised, if a short one joins it.")
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print JSON on stdout, one object a line: {\"event\": \"ready\"} once the first frame is read, "
                   "one per utterance (id, text, start, end, words, confidence, warnings, modality, latency; "
                   "\"revised\": true when it replaces the utterance with the same id), and "
                   "{\"event\": \"end\"}.")
@click.option("-o", "--output-dir", metavar="DIR", default=None, type=click.Path(),
              help="Also write DIR/live.srt and DIR/live.vtt, rewritten as each utterance is read.")
@decoder_options()
@click.option("--device", metavar="DEVICE", default="auto", help=DEVICE_HELP)
@modality_option(" and the source has sound")
def command(source, model, realtime, wait, as_json, output_dir, decoder, beam_size, lm, lexicon, lm_weight, word_score,
            flip_average, length_norm, ctc_weight, grammar, word_timing, device, modality):
    """Read SOURCE continuously and print each utterance when it ends (a pause in the sound, or the mouth
    at rest without sound): one line of text each, or JSON lines with --json. An utterance a short one then
    joins (a last word after a pause) is printed again, marked revised (--wait: never; about 1 s later).

    SOURCE is a camera index (default 0), a video file, a stream URL (rtsp://, http://: what PyAV opens),
    or - for a stream on standard input. Ctrl-C stops it after the utterances already seen are read.
    """
    from lipread.device import check_device_name

    check_device_name(device)
    if output_dir:
        from lipread.io.output import ensure_output_dir

        ensure_output_dir(output_dir, "-o")
    from lipread.pipelines.live import check_source

    check_source(source)  # a missing file fails before the model is loaded
    from lipread.pipelines.live import LiveReader, write_subtitles

    reader = LiveReader(model, modality=modality, device=device, wait=wait, decoder=decoder, beam_size=beam_size, lm=lm,
                        lexicon=lexicon, lm_weight=lm_weight, word_score=word_score, flip_average=flip_average,
                        length_norm=length_norm, ctc_weight=ctc_weight, grammar=grammar, word_timing=word_timing)
    said: list = []

    def ready() -> None:
        if as_json:
            emit({"event": "ready"})
        else:
            log.info("reading %s (Ctrl-C to stop)", source)

    def emit(obj: dict) -> None:
        click.echo(json.dumps(obj))
        sys.stdout.flush()

    def show(utterance) -> None:
        before = [u for u in said if u.id == utterance.id]
        if utterance.revised:  # it replaces the one with its id (a short utterance joined it)
            said[:] = [u for u in said if u.id != utterance.id]
        said.append(utterance)
        if as_json:
            emit(utterance.to_dict())
        elif before and before[0].text == utterance.text:
            pass  # the same words read again (only their times moved): the line already printed stands
        else:
            mark = " (revised)" if utterance.revised else ""
            click.echo(f"[{utterance.start:7.2f}-{utterance.end:7.2f}]{mark} {utterance.text}")
            sys.stdout.flush()
            for w in utterance.warnings:
                log.warning("%.2f-%.2fs: %s", utterance.start, utterance.end, w)
        if output_dir:
            write_subtitles(output_dir, said)

    try:
        # Ctrl-C stops the source; the stream then reads what has arrived and ends (a second one stops at once)
        for utterance in reader.stream(source, realtime=realtime, on_ready=ready):
            show(utterance)
        src = reader.source
        reason = "interrupted" if reader.interrupted else "end of source"
        dropped = src.dropped if src is not None else 0
        frames = src.frames if src is not None else 0
        if dropped:
            log.warning("%s: %d of %d frames skipped: this machine could not keep up", source, dropped, frames)
        if as_json:
            emit({"event": "end", "reason": reason, "frames": frames, "dropped": dropped, "utterances": len(said)})
    finally:
        reader.close()
