"""`lipread evaluate CHECKPOINT DATA`: WER/CER of a model on a prepared cache."""

from __future__ import annotations

import click

from lipread.cli._common import CONTEXT


@click.command("evaluate", context_settings=CONTEXT)
@click.argument("checkpoint")
@click.argument("data", type=click.Path(file_okay=False))
@click.option("--split", default=None, help="Split of the cache to score (default: every clip).")
@click.option("--decoder", type=click.Choice(["greedy", "beam"]), default="greedy")
@click.option("--beam-size", type=int, default=10)
@click.option("--lm", type=click.Path(dir_okay=False), default=None, help="n-gram LM (ARPA or KenLM binary).")
@click.option("--lexicon", type=click.Path(dir_okay=False), default=None, help="Word list: one word a line.")
@click.option("--lm-weight", type=float, default=0.5)
@click.option("--word-score", type=float, default=0.0, help="Score added per emitted word (insertion bonus).")
@click.option("--batch-size", type=int, default=8)
@click.option("--device", default="cpu")
@click.option("--limit", type=int, default=0, help="Score only the first N clips (0 = all).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write the report here, with .utterances.jsonl, .hyp.txt and .ref.txt beside it.")
def command(checkpoint, data, split, decoder, beam_size, lm, lexicon, lm_weight, word_score, batch_size, device,
            limit, json_out):
    """Decode every clip of DATA (a cache from `lipread prepare`) with CHECKPOINT and score WER/CER.

    CHECKPOINT is a checkpoint folder (e.g. runs/x/best) or a zoo model name (e.g. lipnet-grid-s1).
    """
    from lipread.pipelines.evaluate import DecodeOptions, evaluate, format_summary

    options = DecodeOptions(decoder, beam_size, lm, lexicon, lm_weight, word_score)
    result = evaluate(checkpoint, data, split=split, options=options, batch_size=batch_size, device=device,
                      limit=limit)
    click.echo(format_summary(result.report, word_times=result.word_times))
    if json_out:
        extra = {"checkpoint": str(checkpoint), "data": str(data), "split": split,
                 "decoder": {"name": decoder, "beam_size": beam_size, "lm": lm, "lexicon": lexicon,
                             "lm_weight": lm_weight, "word_score": word_score}}
        result.write(json_out, extra)
