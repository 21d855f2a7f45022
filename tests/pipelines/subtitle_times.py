"""Parse the cue times of SRT (``00:00:01,200``) and VTT (``00:00:01.200``) text, in seconds."""

from __future__ import annotations

import re

CUE = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3}) --> (\d+):(\d\d):(\d\d)[,.](\d{3})")


def cue_times(text: str) -> list[tuple[float, float]]:
    out = []
    for m in CUE.finditer(text):
        g = [int(x) for x in m.groups()]
        out.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000))
    return out
