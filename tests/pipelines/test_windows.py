"""Window planning for long videos."""

from __future__ import annotations

import pytest

from lipread.pipelines.windows import Window, fixed_windows, keep_owned, speech_windows
from lipread.types import WordSpan


def test_short_video_is_one_window():
    assert fixed_windows(2.5, 3.0, 0.5) == [Window(0.0, 2.5, 0.0, 2.5)]


@pytest.mark.parametrize("duration", [3.1, 7.0, 10.0, 3600.0])
def test_fixed_windows_cover_and_own_each_instant_once(duration):
    wins = fixed_windows(duration, 3.0, 0.5)
    assert wins[0].start == 0.0 and wins[-1].end == pytest.approx(duration)
    for w in wins:
        assert w.end - w.start <= 3.0 + 1e-9 and w.start <= w.own_start < w.own_end <= w.end + 1e-9
    owned = [(w.own_start, w.own_end) for w in wins]
    assert owned[0][0] == 0.0 and owned[-1][1] == pytest.approx(duration)
    for (_, e), (s, _) in zip(owned, owned[1:]):
        assert e == pytest.approx(s)  # the owned stretches tile the video


def test_words_in_overlap_are_kept_once():
    wins = fixed_windows(5.0, 3.0, 1.0)  # [0,3) and [2,5): own [0,2.5) and [2.5,5)
    word = WordSpan("blue", 2.2, 2.6)  # midpoint 2.4: seen by both windows
    kept = [w for win in wins for w in keep_owned([word], win)]
    assert kept == [word]


def test_speech_windows_merge_pad_and_split():
    wins = speech_windows([(1.0, 2.0), (2.1, 3.0), (10.0, 17.0)], duration=20.0, length=3.0)
    assert wins[0].start == pytest.approx(0.8) and wins[0].end == pytest.approx(3.2)
    long = wins[1:]
    assert len(long) == 3 and all(w.end - w.start <= 3.0 for w in long)
    assert long[0].start == pytest.approx(9.8) and long[-1].end == pytest.approx(17.2)
