"""The `lipread` command: one group, one module per subcommand, errors as one line.

Every error a user can cause prints one line, ``lipread: error: ...``, and exits 2 for a wrong
command line (unknown option, bad value, out of range) or 1 for an input or output that failed.
"""

from __future__ import annotations

import logging
import sys

import click

from lipread import __version__
from lipread.cli import crop, evaluate, info, live, models, prepare, score, train, transcribe
from lipread.cli._common import CONTEXT, setup_logging
from lipread.errors import LipreadError

SUBCOMMANDS = [transcribe, live, crop, info, prepare, train, evaluate, score, models]

log = logging.getLogger("lipread")


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="lipread")
@click.option("-v", "--verbose", count=True, help="More diagnostics: -v info, -vv debug.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (and the results); no progress bars.")
def cli(verbose: int, quiet: bool):
    """lipread: read lips from video.

    Decode a video, find the face, crop the mouth, run a lipreading model and decode text.
    Run `lipread COMMAND --help` for a command's options and defaults.
    """
    setup_logging(verbose, quiet)


for _module in SUBCOMMANDS:
    cli.add_command(_module.command)


def _error(message: str) -> None:
    click.echo(f"lipread: error: {message}", err=True)


def _usage_message(exc: click.UsageError, argv: list[str]) -> str:
    msg = exc.format_message().rstrip(".")
    if "--json" in argv and "unexpected extra argument" in msg:
        msg += " (--json is a switch that prints JSON on stdout; write files with -o DIR)"
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "lipread"
    return f"{msg}. See '{where} --help'."


VERBOSITY = {"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose"}


def hoist_verbosity(args: list[str]) -> list[str]:
    """``lipread transcribe x.mp4 -q`` means ``lipread -q transcribe x.mp4``: the verbosity switches may
    go anywhere before a ``--``."""
    end = args.index("--") if "--" in args else len(args)
    moved = [a for a in args[:end] if a in VERBOSITY]
    return moved + [a for a in args[:end] if a not in VERBOSITY] + args[end:]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a :class:`LipreadError` becomes one line on stderr and its exit code."""
    args = hoist_verbosity(list(sys.argv[1:] if argv is None else argv))
    try:
        result = cli.main(args=args, prog_name="lipread", standalone_mode=False)
    except LipreadError as exc:
        _error(exc.message)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        _error(_usage_message(exc, args))
        return 2
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:  # `lipread ... | head`: the reader went away; nothing left to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # an output that failed mid-run (disk full, folder removed): no traceback
        log.debug("OSError", exc_info=True)
        _error(f"{getattr(exc, 'filename', None) or ''}{': ' if getattr(exc, 'filename', None) else ''}"
               f"{exc.strerror or exc}. Run with -vv for the details.")
        return 1
    # with standalone_mode=False click returns (not raises) the code of a ``click.exceptions.Exit``
    return result if isinstance(result, int) else 0


def run() -> None:
    """The ``lipread`` command: :func:`main`, then the process ends at once, with what it wrote flushed but
    without the interpreter's teardown, which takes ~0.4 s once torch and mediapipe are loaded (a seventh of
    reading one clip in a new process). When a child process or another non-daemon thread is still running,
    it exits the ordinary way, which waits for them."""
    import logging
    import multiprocessing
    import os
    import threading

    code = main()
    busy = multiprocessing.active_children() or any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: the ordinary exit reports it
        busy = True
    if busy:
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
