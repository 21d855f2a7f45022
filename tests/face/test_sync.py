"""Audio-visual synchrony on synthetic signals, and the multi-face tracker."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.errors import UsageError
from lipread.face.sync import choose_face, estimate_offset, lagged_correlation, motion_score
from lipread.face.track import FaceTracks, check_face_option


def speechlike(n: int, rng: np.random.Generator) -> np.ndarray:
    """A mouth-opening-like signal: smoothed bursts at syllable rate (3-6 Hz at 25 fps)."""
    x = rng.normal(size=n + 20)
    x = np.convolve(x, np.hanning(7), mode="same")[10:-10]
    return np.maximum(x, 0) + 0.05 * rng.normal(size=n)


def delayed(x: np.ndarray, lag: int, rng: np.random.Generator, noise: float = 0.3) -> np.ndarray:
    """``x`` heard ``lag`` frames late (y[t + lag] = x[t]), plus noise."""
    y = np.roll(x, lag)
    y[:lag] = 0 if lag > 0 else y[:lag]
    return y + noise * x.std() * rng.normal(size=len(x))


@pytest.mark.parametrize("lag", [-5, 0, 3, 7])
def test_known_lag_recovered(lag):
    rng = np.random.default_rng(lag + 10)
    mouth = speechlike(150, rng)
    sound = delayed(mouth, lag, rng)
    c = lagged_correlation(mouth, sound, 10)
    assert int(np.argmax(c)) - 10 == lag
    offset, corr = estimate_offset(mouth, sound, 10)
    assert abs(offset - lag / 25) < 0.5 / 25 and corr > 0.5


def test_in_sync_face_wins_and_offset_is_reported():
    rng = np.random.default_rng(1)
    speaker, other = speechlike(75, rng), speechlike(75, rng)
    sound = delayed(speaker, 4, rng)
    for faces, want in (([speaker, other], 0), ([other, speaker], 1)):
        choice = choose_face(np.stack(faces), sound, max_lag=8)
        assert [s.face for s in choice.stretches] == [want]
        assert choice.stretches[0].reason.startswith("sync with sound")
        assert abs(choice.offset - 4 / 25) < 0.5 / 25


def test_turns_switch_once_where_the_speaker_changes():
    rng = np.random.default_rng(2)
    a, b = speechlike(300, rng), speechlike(300, rng)
    still = 0.02 * rng.normal(size=300)
    face0 = np.r_[a[:150], still[150:]]  # speaks first
    face1 = np.r_[still[:150], b[150:]]  # then this one
    sound = np.r_[a[:150], b[150:]] + 0.1 * rng.normal(size=300)
    choice = choose_face(np.stack([face0, face1]), sound, max_lag=8)
    assert [s.face for s in choice.stretches] == [0, 1]
    assert abs(choice.stretches[1].start - 150) <= 25
    assert choice.stretches[0].start == 0 and choice.stretches[-1].end == 300


def test_without_sound_the_moving_mouth_wins():
    rng = np.random.default_rng(3)
    moving, still = speechlike(75, rng), 0.002 * rng.normal(size=75) + 0.3
    for faces, want in (([moving, still], 0), ([still, moving], 1)):
        choice = choose_face(np.stack(faces), None)
        assert [s.face for s in choice.stretches] == [want] and choice.offset is None
        assert "no sound" in choice.stretches[0].reason
    assert motion_score(still) < 0.1 * motion_score(moving)


def test_one_face_is_the_only_face():
    choice = choose_face(np.zeros((1, 40)), None)
    assert [(s.start, s.end, s.face, s.reason) for s in choice.stretches] == [(0, 40, 0, "only face")]


def face_at(x: float, y: float = 100.0, size: float = 60.0) -> np.ndarray:
    rng = np.random.default_rng(int(x * 10) % 1000)
    return (rng.uniform(-0.5, 0.5, size=(45, 2)) * size + np.array([x, y])).astype(np.float32)


def test_tracker_numbers_left_to_right_and_keeps_ids_when_faces_cross():
    tracks = FaceTracks()
    xs = np.linspace(0, 1, 40)
    for t, s in enumerate(xs):
        left, right = 100 + 300 * s, 400 - 300 * s  # they walk past each other (behind/in front: 35 px apart in y)
        faces = [face_at(right, 135), face_at(left, 100)]  # detection order is not left to right
        if 18 <= t < 22:
            faces = faces[1:]  # the right-starting face is not found for four frames
        got = tracks.update(faces)
        if t == 0:
            assert got[0][:, 0].mean() < got[1][:, 0].mean()  # id 0 is the leftmost
    found = tracks.found
    assert len(tracks) == 2 and found[0].all() and found[1].sum() == 36
    pts = tracks.points(45)
    assert pts[0, -1, :, 0].mean() > 350 and pts[1, -1, :, 0].mean() < 150  # each id followed its face across
    tracks.update([face_at(400), face_at(100, 135), face_at(700)])
    assert len(tracks) == 3  # a face far from both tracks starts a new one


@pytest.mark.parametrize("value,want", [("auto", "auto"), ("LARGEST", "largest"), ("0", "0"), (2, "2"), (" 1 ", "1")])
def test_face_option_values(value, want):
    assert check_face_option(value) == want


@pytest.mark.parametrize("value", ["-1", "left", "1.5", "", "01"])
def test_bad_face_option_is_a_usage_error(value):
    with pytest.raises(UsageError):
        check_face_option(value)
