"""Helpers shared by the CLI subcommands (kept import-light: no torch here)."""

from __future__ import annotations

import logging

import click

from lipread.errors import NotBuiltError

log = logging.getLogger("lipread")

# every option shows its default in --help
CONTEXT = {"show_default": True, "help_option_names": ["-h", "--help"]}


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
    """Log a batch summary; raise ``click.exceptions.Exit(1)`` when anything failed."""
    if failures:
        log.error("%d of %d %ss failed:", len(failures), total, noun)
        for path, why in failures.items():
            log.error("  %s: %s", path, why)
        raise click.exceptions.Exit(1)

