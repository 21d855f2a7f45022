"""Errors a user can cause, each with the file, the problem and the fix.

The CLI prints a :class:`LipreadError` as one line (no traceback) and exits non-zero;
any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import os


class LipreadError(Exception):
    """Base class for errors caused by input, configuration or environment.

    ``problem`` says what is wrong, ``path`` names the file (if any), ``fix`` says what to do.
    ``exit_code`` is what the CLI exits with.
    """

    exit_code = 1

    def __init__(self, problem: str, path: str | os.PathLike | None = None, fix: str | None = None):
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.fix = fix
        super().__init__(self.message)

    @property
    def detail(self) -> str:
        """The problem and the fix, without the path (for lists keyed by file)."""
        return f"{self.problem.rstrip('.')}. {self.fix}" if self.fix else self.problem

    @property
    def message(self) -> str:
        return f"{self.path}: {self.detail}" if self.path else self.detail

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class InputFileError(LipreadError):
    """A file is missing, unreadable or of the wrong kind."""


class MediaError(InputFileError):
    """A media file cannot be decoded: not a media file, no video stream, zero frames, truncated."""


class NoAudioError(MediaError):
    """Audio features were asked for but the file has no audio track."""


class NoFaceError(LipreadError):
    """No face was found in any frame of a video."""


class FaceTooSmallError(NoFaceError):
    """A face was found but is too small in the frame to read the lips from (too far from the camera)."""


class ConfigError(LipreadError):
    """A configuration key or value is wrong (unknown key, bad type, bad value)."""


class UsageError(ConfigError):
    """The command line (or the arguments of an API call) is wrong: a value out of range, options that
    do not go together, an unknown device name. The CLI exits 2, as for any usage error."""

    exit_code = 2


class OutputError(LipreadError):
    """An output file or folder cannot be written (no permission, a file in the way, read-only)."""


class DeviceError(LipreadError):
    """The compute device asked for is not there (e.g. CUDA on a CPU-only PyTorch)."""


class CheckpointError(LipreadError):
    """A checkpoint or zoo model folder is missing, corrupt, or not a lipread model."""


class DataError(LipreadError):
    """A dataset, manifest, transcript or score file is malformed or inconsistent."""


class DependencyError(LipreadError):
    """An optional dependency needed for this feature is not installed."""


class NotBuiltError(LipreadError):
    """A capability that is planned but not built yet."""

    exit_code = 2
