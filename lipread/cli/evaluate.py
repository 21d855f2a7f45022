"""`lipread evaluate CHECKPOINT DATA`: WER/CER of a model on a prepared cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from lipread.cli._common import CONTEXT, JSON_HELP, decoder_options, modality_option
from lipread.device import DEVICE_HELP

log = logging.getLogger("lipread.evaluate")


@click.command("evaluate", context_settings=CONTEXT, short_help="WER/CER of a model on a prepared cache.")
@click.argument("checkpoint")
@click.argument("data", type=click.Path())
@click.option("--split", type=click.Choice(["auto", "train", "val", "test", "all"]), default="auto",
              help="Split of the cache to score; auto = the held-out split the cache records (test, else val).")
@decoder_options("Decoder. [default: the one stored with the model, as `lipread transcribe` uses]")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, help="Clips per model call.")
@click.option("--device", metavar="DEVICE", default="auto", help=DEVICE_HELP)
@click.option("--limit", type=click.IntRange(min=0), default=0, help="Score only the first N clips (0 = all).")
@click.option("-o", "--output-dir", metavar="DIR", default=None, type=click.Path(),
              help="Also write report.json, utterances.jsonl, hyp.txt and ref.txt into this folder "
                   "(created if missing; checked before any work starts).")
@modality_option(" and the cache has sound")
@click.option("--noise", type=click.Choice(["white", "babble"]), default=None,
              help="Mix this noise into each clip's sound first (babble: other clips of the same split), seeded "
                   "per clip so the number reruns; needs --snr.")
@click.option("--snr", type=float, default=None, metavar="DB", help="Signal-to-noise ratio of --noise, in dB.")
@click.option("--standin", is_flag=True, default=False,
              help="Give each clip to one of nine stand-in speakers first (its voice's formants and the face's "
                   "shape and colour changed by transforms training never applies): a development set for "
                   "speakers the model never saw. WER per stand-in is in the report.")
@click.option("--json", "as_json", is_flag=False, flag_value="-", default=None, metavar="[FILE]",
              help=JSON_HELP + " (the summary of report.json); --json FILE writes it to FILE instead.")
def command(checkpoint, data, split, decoder, beam_size, lm, lexicon, lm_weight, word_score, flip_average, length_norm,
            ctc_weight, grammar, word_timing, batch_size, device, limit, output_dir, modality, noise, snr, standin, as_json):
    """Decode the clips of DATA (a cache from `lipread prepare`) with CHECKPOINT and score WER/CER.

    CHECKPOINT is a checkpoint folder (e.g. runs/x/best) or a zoo model name (e.g. lipnet-grid-s1).
    Without --split the held-out split the cache records is scored, and the output says which.
    `lipread score ref.txt hyp.txt` on the written files gives the same numbers.
    """
    from lipread.device import check_device_name

    check_device_name(device)
    from lipread.audio.noise import check_noise_args

    check_noise_args(noise, snr)
    if as_json and as_json != "-":
        from lipread.io.output import ensure_output_dir

        ensure_output_dir(Path(as_json).parent, "--json")
    if output_dir:
        from lipread.io.output import ensure_output_dir

        ensure_output_dir(output_dir, "-o")

    from lipread.pipelines.evaluate import evaluate, format_summary

    result = evaluate(checkpoint, data, split=split, batch_size=batch_size, device=device, limit=limit,
                      decoder=decoder, beam_size=beam_size, lm=lm, lexicon=lexicon, lm_weight=lm_weight,
                      word_score=word_score, flip_average=flip_average, length_norm=length_norm,
                      ctc_weight=ctc_weight, grammar=grammar, word_timing=word_timing, modality=modality, noise=noise, snr=snr,
                      standin=standin)
    extra = {"checkpoint": str(checkpoint), "data": str(data)}
    if as_json == "-":
        click.echo(json.dumps(result.summary(extra), indent=2))
    elif as_json:
        Path(as_json).write_text(json.dumps(result.summary(extra), indent=2) + "\n")
        click.echo(format_summary(result.report, split=result.split, decode=result.decode,
                                  word_times=result.word_times, condition=result.condition))
        log.info("summary written to %s", as_json)
    else:
        click.echo(format_summary(result.report, split=result.split, decode=result.decode,
                                  word_times=result.word_times, condition=result.condition))
    if output_dir:
        paths = result.write(output_dir, extra)
        log.info("report written to %s", paths["report.json"])
