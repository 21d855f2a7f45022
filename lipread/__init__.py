"""lipread: read lips from video.

Stages: decode (``lipread.io``) -> landmarks and mouth crop (``lipread.face``) -> audio features
(``lipread.audio``) -> model (``lipread.models``) -> decoder (``lipread.decoding``) -> writers /
metrics. See docs/DESIGN.md for the contracts between them.
"""

__version__ = "0.1.0"

from lipread.errors import LipreadError  # noqa: E402

__all__ = ["__version__", "LipreadError", "load_model", "stream", "transcribe"]


def __getattr__(name: str):
    # lazy, so that `import lipread` (and `lipread --help`) does not import torch
    if name in ("load_model", "transcribe"):
        from lipread.pipelines import transcribe as _t

        return getattr(_t, name)
    if name == "stream":
        from lipread.pipelines.live import stream

        return stream
    raise AttributeError(f"module 'lipread' has no attribute {name!r}")
