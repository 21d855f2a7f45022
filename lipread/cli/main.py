"""The `lipread` command: one group, one module per subcommand, errors as one line."""

from __future__ import annotations

import logging
import sys

import click

from lipread import __version__
from lipread.cli import crop, evaluate, info, models, prepare, score, train, transcribe
from lipread.cli._common import CONTEXT
from lipread.errors import LipreadError

SUBCOMMANDS = [transcribe, crop, info, prepare, train, evaluate, score, models]


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="lipread")
@click.option("-v", "--verbose", count=True, help="More diagnostics (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool):
    """lipread: read lips from video.

    Decode a video, find the face, crop the mouth, run a lipreading model and decode text.
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose + 1, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


for _module in SUBCOMMANDS:
    cli.add_command(_module.command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a :class:`LipreadError` becomes one line on stderr and its exit code."""
    try:
        result = cli.main(args=argv, prog_name="lipread", standalone_mode=False)
    except LipreadError as exc:
        click.echo(f"lipread: error: {exc.message}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    # with standalone_mode=False click returns (not raises) the code of a ``click.exceptions.Exit``
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
