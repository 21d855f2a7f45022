"""Helpers shared by the CLI subcommands (kept import-light: no torch here).

Conventions every subcommand keeps (the README's "Conventions" section says the same):

- diagnostics go through ``logging`` to stderr as ``lipread: error: ...`` / ``lipread: warning: ...``;
  ``-q`` errors only and no progress bars, default warnings and results, ``-v`` info, ``-vv`` debug;
- progress bars (``lipread.progress``) are drawn on stderr only when it is a terminal;
- results go to stdout; ``--json`` prints them as JSON instead of text;
- files are written under ``-o/--output-dir``, checked before any work starts;
- exit 0 when all went well, 1 when an input or an output failed, 2 when the command line is wrong.
"""

from __future__ import annotations

import logging
import sys

import click

from lipread.errors import NotBuiltError, UsageError

log = logging.getLogger("lipread")

# every option shows its default in --help
CONTEXT = {"show_default": True, "help_option_names": ["-h", "--help"]}

OUTPUT_DIR_HELP = "Folder for the output files (created if missing; checked before any work starts)."
JSON_HELP = "Print the result as JSON on stdout instead of text."
LM_HELP = ("n-gram LM for the beam decoder: an ARPA or KenLM binary file, or 'grid' for the GRID grammar LM "
           "shipped with lipread.")
LEXICON_HELP = "Word list for the beam decoder (one word a line), or 'grid' for the GRID vocabulary."


def decoder_options(decoder_help: str = "Decoder. [default: the one stored with the model]"):
    """The decoder settings ``transcribe`` and ``evaluate`` share (each defaults to the model's stored one):
    ``decoder``, ``beam_size``, ``lm``, ``lexicon``, ``lm_weight``, ``word_score``, ``flip_average``, ``length_norm``, ``ctc_weight``, ``grammar``, ``word_timing``."""
    options = [
        click.option("--decoder", type=click.Choice(["greedy", "beam"]), default=None, help=decoder_help),
        click.option("--beam-size", type=click.IntRange(min=1), default=None,
                     help="Beam width of the beam decoder. [default: the model's, else 10]"),
        click.option("--lm", metavar="FILE|grid", default=None, help=LM_HELP + " [default: the model's]"),
        click.option("--lexicon", metavar="FILE|grid", default=None, help=LEXICON_HELP + " [default: the model's]"),
        click.option("--lm-weight", type=float, default=None,
                     help="Weight of the LM score against the model's (beam decoder). [default: the model's, else 0.5]"),
        click.option("--word-score", type=float, default=None,
                     help="Score added per word, a bonus against deletions (beam decoder). "
                          "[default: the model's, else 0]"),
        click.option("--flip-average/--no-flip-average", default=None,
                     help="Average the model's posteriors (attention models: the lip encoder's states) on each clip "
                          "and its mirror image. [default: the model's]"),
        click.option("--length-norm", type=click.FloatRange(min=0.0), default=None,
                     help="Attention models' beam search: rank hypotheses by log-prob / length ** this. "
                          "[default: the model's, else 0]"),
        click.option("--ctc-weight", type=click.FloatRange(min=0.0, max=1.0, max_open=True), default=None,
                     help="Attention models' beam search: weight of the CTC head's prefix score next to the speller's "
                          "(joint CTC/attention decoding). [default: the model's, else 0]"),
        click.option("--grammar", type=click.Choice(["grid", "none"]), default=None,
                     help="Beam search reads only sentences of this grammar (grid: the GRID corpus's six slots; "
                          "for CTC models it replaces the LM). [default: the model's, else none]"),
        click.option("--word-timing", type=click.Choice(["auto", "ctc"]), default=None,
                     help="Attention models' word times: auto = forced alignment on the align head, ctc = on the "
                          "CTC branch. [default: the model's, else auto]"),
    ]

    def apply(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


MODALITY_HELP = ("What an audio-visual model (WLAS) reads: av (lips and sound), video (lips only) or audio (sound "
                 "only); auto = av when the model has a Listen encoder{}, else video.")


def modality_option(auto_detail: str = ""):
    return click.option("--modality", type=click.Choice(["auto", "av", "video", "audio"]), default="auto",
                        help=MODALITY_HELP.format(auto_detail))


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + self.formatException(record.exc_info)
        return f"lipread: {record.levelname.lower()}: {msg}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(verbose: int, quiet: bool) -> None:
    """``-q`` errors only, default warnings, ``-v`` info, ``-vv`` debug (lipread's own loggers; other
    libraries stay at warnings, so ``-vv`` is not flooded by matplotlib or PIL). ``-q`` also turns off
    progress bars."""
    from lipread.progress import set_progress

    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_lipread", False):
            root.removeHandler(h)
    handler._lipread = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.ERROR if quiet else logging.WARNING)
    logging.getLogger("lipread").setLevel(level)
    set_progress(False if quiet else None)


def not_built_command(name: str, what: str, help: str) -> click.Command:
    """A subcommand whose capability is not built yet: exits 2 and says so in one line."""

    @click.command(
        name, help=help + "\n\n(Not built yet.)", context_settings={**CONTEXT, "ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args):
        raise NotBuiltError(f"`lipread {name}` ({what}) is not built yet", fix="See the open issues.")

    return command


def batch_result(failures: dict[str, str], total: int, noun: str = "file") -> None:
    """After a batch: one summary line when anything failed (each failure was logged once, as it
    happened) and exit 1."""
    if failures:
        log.error("%d of %d %ss failed (each is reported above)", len(failures), total, noun)
        raise click.exceptions.Exit(1)


def split_formats(values: tuple[str, ...], choices: list[str]) -> list[str]:
    """``-f srt -f vtt`` or ``-f srt,vtt`` -> ``["srt", "vtt"]`` in the order given; ``all`` means every one."""
    out: list[str] = []
    for value in values:
        for name in (v.strip().lower() for v in value.split(",")):
            if not name:
                continue
            if name == "all":
                names = choices
            elif name in choices:
                names = [name]
            else:
                raise UsageError(f"unknown output format {name!r} in -f", fix=f"Use {', '.join(choices)} or all.")
            out += [n for n in names if n not in out]
    if not out:
        raise UsageError("no output format given with -f", fix=f"Use {', '.join(choices)} or all.")
    return out


def check_unique_stems(paths: tuple[str, ...] | list[str], out_dir: str) -> None:
    """Inputs whose outputs would share a name (``d1/x.mpg`` and ``d2/x.mp4`` both write ``x.*``) are
    refused before any work, so one never silently overwrites the other."""
    from pathlib import Path

    seen: dict[str, str] = {}
    for p in paths:
        stem = Path(p).stem
        if stem in seen and seen[stem] != p:
            raise UsageError(
                f"{seen[stem]} and {p} would both write {Path(out_dir) / stem}.*",
                fix="Process them in separate runs with different -o folders, or rename one.",
            )
        seen[stem] = p
