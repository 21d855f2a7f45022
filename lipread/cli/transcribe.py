"""`lipread transcribe VIDEO...`: text and subtitles from video files."""

from __future__ import annotations

import logging

import click

from lipread.cli._common import CONTEXT, batch_result

log = logging.getLogger("lipread.transcribe")


@click.command("transcribe", context_settings=CONTEXT)
@click.argument("videos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-m", "--model", default="lipnet-grid-s1", help="Zoo model name or checkpoint folder.")
@click.option("-f", "--format", "fmt", type=click.Choice(["txt", "srt", "vtt", "json", "all"]), default="all",
              help="Output format(s).")
@click.option("-o", "--output-dir", default=".", type=click.Path(file_okay=False),
              help="Folder for the output files (named after each input: clip.mp4 -> clip.txt ...).")
@click.option("--decoder", type=click.Choice(["greedy", "beam"]), default=None,
              help="Decoder (default: the one stored with the model).")
@click.option("--beam-size", type=int, default=None, help="Beam width (default: the model's, else 10).")
@click.option("--lm", type=click.Path(dir_okay=False), default=None, help="n-gram LM (ARPA or KenLM binary).")
@click.option("--lexicon", type=click.Path(dir_okay=False), default=None, help="Word list, one word a line.")
@click.option("--lm-weight", type=float, default=None)
@click.option("--word-score", type=float, default=None)
@click.option("--device", default="cpu", help="cpu | cuda | cuda:N")
@click.option("--batch-size", type=int, default=4, help="Windows of a long video per model call.")
def command(videos, model, fmt, output_dir, decoder, beam_size, lm, lexicon, lm_weight, word_score, device,
            batch_size):
    """Transcribe VIDEO files: text and subtitles with word times.

    The default model reads GRID-grammar sentences of GRID speaker 1 (see models/lipnet-grid-s1).
    Prints `path<TAB>text` per video; a file that fails is reported and the others go on (exit 1).
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from lipread.errors import LipreadError
    from lipread.pipelines.transcribe import Transcriber, load_model
    from lipread.pipelines.writers import get_writers

    loaded = load_model(model, device)
    options = loaded.decode_options(decoder=decoder, beam_size=beam_size, lm=lm, lexicon=lexicon,
                                    lm_weight=lm_weight, word_score=word_score)
    transcriber = Transcriber(loaded, options, batch_size=batch_size)
    writers = get_writers(fmt, output_dir)
    failures: dict[str, str] = {}
    # lines and log records go through tqdm, so they print above the progress bar, not into it
    with logging_redirect_tqdm():
        try:
            for path in tqdm(videos, desc="transcribe", unit="file", disable=len(videos) < 2, dynamic_ncols=True):
                try:
                    transcript = transcriber.transcribe(path)
                except LipreadError as exc:
                    failures[path] = exc.detail
                    log.error("%s", exc.message)
                    continue
                for w in writers:
                    w.write(transcript)
                tqdm.write(f"{path}\t{transcript.text}")
        finally:
            transcriber.close()
    batch_result(failures, len(videos), "video")
