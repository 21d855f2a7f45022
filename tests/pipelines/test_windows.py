"""Long videos: utterances from an activity signal, windows placed around them, words kept once."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.audio.activity import adaptive_threshold, frame_energy_db
from lipread.face.motion import mouth_activity
from lipread.pipelines.windows import (
    SegmentConfig,
    Window,
    active_runs,
    context_windows,
    keep_owned,
    utterances,
)
from lipread.types import WordSpan


def signal(runs, n=400):
    """An activity of ``n`` frames: 1 inside the ``runs`` ([start, end) frames), 0 elsewhere."""
    x = np.zeros(n)
    for a, b in runs:
        x[a:b] = 1.0
    return x


def test_active_runs():
    assert active_runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert active_runs(np.zeros(3, bool)) == []


def test_utterances_bridge_words_and_split_at_pauses():
    # two words 2 frames apart (bridged), a 4-frame blip (dropped), a 0.2-s pause inside the second
    # sentence: pauses of `pause` (0.3 s) and more end an utterance
    x = signal([(10, 30), (32, 50), (80, 84), (120, 150), (155, 180)])
    assert utterances(x, 0.5) == [(10, 50), (120, 180)]
    assert utterances(x, 0.5, SegmentConfig(pause=0.2)) == [(10, 50), (120, 150), (155, 180)]
    assert utterances(x, 0.5, SegmentConfig(pause=2.0)) == [(10, 50), (120, 180)]  # the 2.8 s would pass 2.6


def test_a_long_utterance_is_split_at_its_longest_pause():
    # 4 s of speech with short pauses: cut where the pause is longest, until no part is over max_speech
    x = signal([(0, 30), (33, 60), (65, 90), (93, 100)], n=100)
    parts = utterances(x, 0.5, SegmentConfig(pause=1.0, max_speech=2.6))
    assert parts == [(0, 60), (65, 100)]
    # one unbroken run longer than max_speech is cut at its quietest frame
    y = np.ones(200)
    y[120] = 0.6
    assert utterances(y, 0.5, SegmentConfig(max_speech=6.0)) == [(0, 120), (120, 200)]


def test_context_windows_place_speech_like_a_training_clip():
    utts = [(100, 140), (150, 190)]
    wins = context_windows(utts, n_frames=300, length=75, lead=0.35)
    first, second = wins
    assert first.end - first.start == 75 and second.end - second.start == 75
    assert first.start == 100 - round(35 * 0.35)
    # what is shown stops at the neighbour's speech; the rest repeats the edge frames
    assert (first.real_start, first.real_end) == (first.start, 150)
    assert second.real_start == 140
    idx = first.frame_index()
    assert len(idx) == 75 and idx.max() == 149 and (idx == 149).sum() == first.end - 149
    # the two own up to the middle of the pause, and tile [own_from, own_to)
    assert (first.own_start, first.own_end, second.own_start, second.own_end) == (0, 145, 145, 300)


def test_context_windows_reach_past_the_edges_of_the_block():
    (w,) = context_windows([(2, 30)], n_frames=40, length=75)
    assert w.start < 0 and w.end > 40 and w.end - w.start == 75
    idx = w.frame_index()
    assert idx.min() == 0 and idx.max() == 39  # frames before 0 and after 39 repeat the edges
    # an utterance longer than a window gets its own length and a fifth of a window each side
    (w,) = context_windows([(0, 100)], n_frames=200, length=75)
    assert (w.start, w.end) == (-15, 115)


def test_words_seen_by_two_windows_are_kept_once():
    wins = [Window(0.0, 3.0, 0.0, 2.5), Window(2.0, 5.0, 2.5, 5.0)]
    word = WordSpan("blue", 2.2, 2.6)  # midpoint 2.4: seen by both windows
    kept = [w for win in wins for w in keep_owned([word], win)]
    assert kept == [word]


def test_frame_energy_and_adaptive_threshold():
    rng = np.random.default_rng(0)
    quiet, loud = rng.normal(0, 0.001, 6400), rng.normal(0, 0.3, 6400)
    db = frame_energy_db(np.concatenate([quiet, loud, quiet]), n_frames=31, samples_per_frame=640)
    assert db.shape == (31,) and db[30] == -100.0  # past the end of the sound
    assert db[:10].max() < -50 < -20 < db[10:20].min()
    threshold = adaptive_threshold(db[:30], min_range=10.0)
    assert db[:10].max() < threshold < db[10:20].min()
    assert adaptive_threshold(db[:10], min_range=10.0) is None  # silence only: nothing to cut on


def test_mouth_activity_follows_the_lips_not_the_face_size():
    from lipread.face.geometry import face_geometry

    g = face_geometry()
    base = np.repeat(g.mean[None] * 100.0, 50, axis=0)
    lower = [g.names.index(n) for n in ("lower_lip_inner", "lower_lip_bottom")]
    moving = base.copy()
    moving[20:30, lower, 1] += 3.0 * np.sin(np.arange(10) * 2.0)[:, None]  # the lower lip moves for 10 frames
    act = mouth_activity(moving)
    assert act[22:28].min() > 0 and act[:12].max() == 0 and act[40:].max() == 0
    # the same face twice as large moves the same in mouth widths
    assert mouth_activity(moving * 2.0) == pytest.approx(act)
    # frames without a face count as still
    valid = np.ones(50, bool)
    valid[15:35] = False
    assert mouth_activity(moving, valid).max() == 0


def test_a_short_utterance_joins_its_nearer_neighbour():
    # "bin red with a four" (1.0 s), a 0.36-s closure, "please" (0.4 s): one sentence; then 1.6 s later a
    # lone short word stays alone (too far from any neighbour to join)
    x = signal([(10, 35), (44, 54), (94, 104)], n=200)
    assert utterances(x, 0.5) == [(10, 54), (94, 104)]
    assert utterances(x, 0.5, SegmentConfig(short=0.0)) == [(10, 35), (44, 54), (94, 104)]
    # never into something longer than max_speech
    assert utterances(x, 0.5, SegmentConfig(max_speech=1.2)) == [(10, 35), (44, 54), (94, 104)]


def test_context_windows_show_the_neighbours_when_asked():
    utts = [(100, 140), (150, 190)]
    first, second = context_windows(utts, n_frames=300, length=75, still=False)
    assert (first.real_start, first.real_end) == (first.start, first.end)  # the neighbour's speech is shown
    assert second.real_start == second.start


def test_a_muted_track_is_silent_a_quiet_room_is_not():
    from lipread.audio.activity import is_silent

    rng = np.random.default_rng(1)
    assert is_silent(np.zeros(16000, np.float32))
    assert is_silent(np.zeros(10, np.float32))  # shorter than a frame: nothing to hear
    assert not is_silent(rng.normal(0, 0.003, 16000))  # room noise at about -50 dB
    assert not is_silent(np.concatenate([np.zeros(8000), rng.normal(0, 0.3, 640)]))  # one loud frame
