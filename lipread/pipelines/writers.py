"""Output writers, one class per format (whisper's pattern), chosen by name: txt, srt, vtt, json.

``get_writer("srt")(out_dir).write(transcript)`` writes ``<out_dir>/<video stem>.srt``.
``"all"`` writes every format. Every writer shows the same segmentation (:func:`output_segments`):
the JSON ``segments`` (each with an ``id``) are the SRT/VTT cues, one cue per segment, with the
same times, rounded to milliseconds, ordered, never overlapping and inside the media's duration.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace
from pathlib import Path

from lipread.registry import Registry
from lipread.types import Segment, Transcript

WRITERS: Registry[type] = Registry("output format")
JSON_VERSION = 1
MAX_WORDS = 7
"""A segment (a subtitle cue) holds at most this many words ..."""
MAX_DURATION = 4.0
"""... and lasts at most this many seconds; a longer decoding window is split into several."""


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _ms(t: float) -> float:
    return round(float(t), 3)


def output_segments(transcript: Transcript, max_words: int = MAX_WORDS,
                    max_duration: float = MAX_DURATION) -> list[Segment]:
    """The segments every writer shows: the transcript's segments with text, split into lines of at
    most ``max_words`` words / ``max_duration`` s; a segment with word times spans its words. Times are
    rounded to ms, clamped to [0, duration], ordered and non-overlapping; words stay inside their segment.
    Extra fields of segments and words (e.g. confidences) are kept."""
    pieces: list[Segment] = []
    for seg in transcript.segments:
        words = sorted(seg.words, key=lambda w: w.start)
        if not words:
            if seg.text.strip():
                pieces.append(replace(seg, text=seg.text.strip(), words=[]))
            continue
        line: list = []
        for w in words:
            if line and (len(line) >= max_words or w.end - line[0].start > max_duration):
                pieces.append(replace(seg, start=line[0].start, end=line[-1].end,
                                      text=" ".join(x.word for x in line), words=line))
                line = []
            line.append(w)
        pieces.append(replace(seg, start=line[0].start, end=line[-1].end, text=" ".join(x.word for x in line),
                              words=line))
    duration = _ms(transcript.duration) if transcript.duration and transcript.duration > 0 else math.inf
    out: list[Segment] = []
    prev_end = 0.0
    for seg in sorted(pieces, key=lambda p: p.start):
        start = min(max(_ms(seg.start), prev_end), duration)
        end = min(max(_ms(seg.end), start), duration)
        if end <= start:  # a zero-length piece: give it a millisecond where there is room, else drop it
            if start + 0.001 > duration:
                continue
            end = _ms(start + 0.001)
        words = []
        for w in seg.words:
            ws = min(max(_ms(w.start), start), end)
            words.append(replace(w, start=ws, end=min(max(_ms(w.end), ws), end)))
        out.append(replace(seg, start=start, end=end, words=words))
        prev_end = end
    return out


def cues(transcript: Transcript, max_words: int = MAX_WORDS, max_duration: float = MAX_DURATION
         ) -> list[tuple[float, float, str]]:
    """(start, end, text) subtitle cues: one per :func:`output_segments` segment."""
    return [(s.start, s.end, s.text) for s in output_segments(transcript, max_words, max_duration)]


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
            "modality": transcript.modality,
            "duration": _ms(transcript.duration),
            "text": transcript.text,
            "confidence": transcript.confidence,
            "warnings": list(transcript.warnings),
            "faces": list(transcript.faces),
            "av_offset": transcript.av_offset,
            "segments": [{"id": i, **asdict(s), "confidence": s.confidence}
                         for i, s in enumerate(output_segments(transcript))],
        }
        return json.dumps(data, indent=2) + "\n"


def get_writers(fmt: str | list[str] | tuple[str, ...], out_dir: str | Path) -> list[Writer]:
    """Writers for one format name, a list of names, or ``"all"``."""
    names = [fmt] if isinstance(fmt, str) else list(fmt)
    if "all" in names:
        names = WRITERS.list()
    return [WRITERS.get(n)(out_dir) for n in dict.fromkeys(names)]
