"""Output writers, one class per format (whisper's pattern), chosen by name: txt, srt, vtt, json.

``get_writer("srt")(out_dir).write(transcript)`` writes ``<out_dir>/<video stem>.srt``.
``"all"`` writes every format. Subtitle cues are the transcript's words grouped into lines of at most
``max_words`` words or ``max_duration`` seconds, ordered and clipped to the video's duration.
"""

from __future__ import annotations

import json
from pathlib import Path

from lipread.registry import Registry
from lipread.types import Transcript, WordSpan

WRITERS: Registry[type] = Registry("output format")
JSON_VERSION = 1


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cues(transcript: Transcript, max_words: int = 7, max_duration: float = 4.0) -> list[tuple[float, float, str]]:
    """(start, end, text) subtitle cues, ordered, non-overlapping, inside [0, duration]."""
    out: list[tuple[float, float, str]] = []
    line: list[WordSpan] = []

    def flush():
        if line:
            out.append((line[0].start, line[-1].end, " ".join(w.word for w in line)))
            line.clear()

    words = sorted(transcript.words, key=lambda w: w.start)
    if not words:  # no word times: one cue per segment
        out = [(s.start, s.end, s.text) for s in transcript.segments if s.text]
    for w in words:
        if line and (len(line) >= max_words or w.end - line[0].start > max_duration):
            flush()
        line.append(w)
    flush()
    fixed = []
    prev_end = 0.0
    dur = transcript.duration if transcript.duration > 0 else float("inf")
    for start, end, text in out:
        start = min(max(start, prev_end), dur)
        end = min(max(end, start + 0.001), dur)
        if end <= start:
            continue
        fixed.append((start, end, text))
        prev_end = end
    return fixed


class Writer:
    extension = ""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)

    def path_for(self, transcript: Transcript) -> Path:
        return self.out_dir / f"{Path(transcript.path).stem}.{self.extension}"

    def write(self, transcript: Transcript) -> Path:
        path = self.path_for(transcript)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.render(transcript), encoding="utf-8")
        tmp.replace(path)
        return path

    def render(self, transcript: Transcript) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@WRITERS.register("txt")
class TxtWriter(Writer):
    extension = "txt"

    def render(self, transcript: Transcript) -> str:
        return transcript.text + "\n"


@WRITERS.register("srt")
class SrtWriter(Writer):
    extension = "srt"

    def render(self, transcript: Transcript) -> str:
        blocks = [
            f"{i}\n{_timestamp(s, ',')} --> {_timestamp(e, ',')}\n{text}\n"
            for i, (s, e, text) in enumerate(cues(transcript), 1)
        ]
        return "\n".join(blocks)


@WRITERS.register("vtt")
class VttWriter(Writer):
    extension = "vtt"

    def render(self, transcript: Transcript) -> str:
        blocks = ["WEBVTT\n"]
        blocks += [f"{_timestamp(s, '.')} --> {_timestamp(e, '.')}\n{text}\n" for s, e, text in cues(transcript)]
        return "\n".join(blocks)


@WRITERS.register("json")
class JsonWriter(Writer):
    extension = "json"

    def render(self, transcript: Transcript) -> str:
        data = {
            "version": JSON_VERSION,
            "path": transcript.path,
            "model": transcript.model,
            "duration": transcript.duration,
            "text": transcript.text,
            "confidence": transcript.confidence,
            "warnings": list(transcript.warnings),
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "confidence": s.confidence,
                    "words": [{"word": w.word, "start": w.start, "end": w.end, "confidence": w.confidence}
                              for w in s.words],
                }
                for s in transcript.segments
            ],
        }
        return json.dumps(data, indent=2) + "\n"


def get_writers(fmt: str, out_dir: str | Path) -> list[Writer]:
    """Writers for one format name or ``"all"``."""
    names = WRITERS.list() if fmt == "all" else [fmt]
    return [WRITERS.get(n)(out_dir) for n in names]
