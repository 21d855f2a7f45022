"""Issue 26 on real GRID clips: augmentations in the dataset, stand-in evaluation, and the speaker check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lipread.data import PreparedDataset
from lipread.pipelines.speaker import (
    calibrate_speaker,
    distance,
    face_features,
    fit_profile,
    speaker_distances,
    speaker_warnings,
    voice_features,
)

FEATURES = {"kind": "mfcc", "n_mfcc": 13, "deltas": True, "cmvn": True}
RETIME = {"speed": 1.0, "speed_range": [0.85, 0.85], "time_shift": 1.0, "time_shift_frames": 12}


def test_speed_and_shift_keep_frames_sound_and_labels_in_step(grid_av_cache):
    plain = PreparedDataset(grid_av_cache, audio_features=FEATURES, frame_labels=True, train=True,
                            augment={"flip": 0.0, "max_shift": 0, "frame_drop": 0.0, "frame_dup": 0.0})
    ds = PreparedDataset(grid_av_cache, audio_features=FEATURES, frame_labels=True, train=True,
                         augment={"flip": 0.0, "max_shift": 0, "frame_drop": 0.0, "frame_dup": 0.0, **RETIME})
    for i in range(len(ds)):
        a, b = plain[i], ds[i]
        t = b.video.shape[0]
        assert b.audio.shape == (4 * t, a.audio.shape[1]) and b.frame_labels.shape == (t,)
        # 0.85x speed: about 1/0.85 as many frames, give or take the shift of up to 12 frames each end
        assert abs(t - round(a.video.shape[0] / 0.85)) <= 24
        # no word was cut: every letter the labels had is still there, stretched by the slower speed
        assert (b.frame_labels > 0).sum() >= (a.frame_labels > 0).sum()
        assert set(np.unique(b.frame_labels)) == set(np.unique(a.frame_labels))
        assert b.text == a.text
    again = ds[0]
    assert np.array_equal(again.video, ds[0].video) and np.array_equal(again.audio, ds[0].audio)
    ds.set_epoch(1)
    assert ds[0].video.shape != again.video.shape or not np.array_equal(ds[0].audio, again.audio)


def test_voice_augmentation_changes_the_features_and_needs_the_sound(grid_av_cache):
    from lipread.errors import DataError

    plain = PreparedDataset(grid_av_cache, audio_features=FEATURES, train=True, augment={"flip": 0.0})
    voiced = PreparedDataset(grid_av_cache, audio_features=FEATURES, train=True, augment={"flip": 0.0},
                             voice={"pitch": 1.0, "pitch_semitones": [4.0, 4.0]})
    a, b = plain[0], voiced[0]
    assert a.audio.shape == b.audio.shape and np.abs(a.audio - b.audio).mean() > 0.1
    assert np.array_equal(a.video, b.video)
    with pytest.raises(DataError, match="voice augmentation"):
        PreparedDataset(grid_av_cache, train=True, voice={"pitch": 1.0})


def test_standin_clips_are_other_speakers_and_always_the_same(grid_av_cache):
    clean = PreparedDataset(grid_av_cache, audio_features=FEATURES)
    ds = PreparedDataset(grid_av_cache, audio_features=FEATURES, standin=True)
    for i in range(len(ds)):
        s, c = ds[i], clean[i]
        assert s.speaker.startswith("standin-") and s.text == c.text
        assert s.video.shape == c.video.shape and np.abs(s.video.astype(int) - c.video).mean() > 3
        assert np.abs(s.audio - c.audio).mean() > 0.05
    assert np.array_equal(ds[0].video, ds[0].video) and np.array_equal(ds[0].audio, ds[0].audio)


def test_evaluate_standin_reports_each_standin(grid_av_cache, tmp_path):
    from lipread.cli.main import main

    out = tmp_path / "s.json"
    rc = main(["evaluate", "wlas-grid-s1", str(grid_av_cache), "--split", "all", "--modality", "audio",
               "--decoder", "greedy", "--standin", "--json", str(out)])
    assert rc in (0, None)
    summary = json.loads(out.read_text())
    assert summary["standin"] is True and summary["modality"] == "audio"
    assert summary["per_speaker"] and all(k.startswith("standin-") for k in summary["per_speaker"])


# --- the speaker check ---------------------------------------------------------------------------------


def test_profile_distance_separates_a_shifted_population():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])  # what is said moves both numbers together
    train = rng.multivariate_normal([0, 0], cov, size=500)
    for full in (True, False):
        profile = fit_profile(list(train), full=full)
        held = rng.multivariate_normal([0, 0], cov, size=200)
        assert np.mean([distance(profile, x) > profile["threshold"] for x in held]) < 0.02
    full = fit_profile(list(train), full=True)
    # off the line the training clips lie on: far for the full covariance even though each number is usual
    assert distance(full, np.array([1.2, -1.2])) > full["threshold"]
    assert distance(full, None) is None and distance(full, np.zeros(3)) is None


def test_a_mirrored_mouth_is_as_near_as_the_mouth():
    """A front camera mirrors the picture: the face distance is the nearer of the crop and its mirror image,
    so a face lit from one side is not a stranger when mirrored, and a different face still is."""
    from lipread.pipelines.speaker import face_features, speaker_distances

    rng = np.random.default_rng(0)
    ramp = np.linspace(60, 200, 100, dtype=np.float32)[None, None, :, None]  # light from the right
    clips = [np.clip(ramp + rng.normal(0, 8, (5, 50, 100, 3)), 0, 255).astype(np.uint8) for _ in range(40)]
    speaker = {"face": fit_profile([face_features(c) for c in clips])}
    clip = clips[0]
    as_is = speaker_distances(speaker, clip)["face_distance"]
    mirrored = speaker_distances(speaker, np.ascontiguousarray(clip[:, :, ::-1]))["face_distance"]
    assert mirrored == pytest.approx(as_is)
    assert distance(speaker["face"], face_features(clip[:, :, ::-1])) > 3 * speaker["face"]["threshold"]  # alone
    other = np.full_like(clip, 90)  # an evenly lit, darker face
    assert speaker_distances(speaker, other)["face_distance"] > speaker["face"]["threshold"]


def test_phone_band_sound_is_measured_against_the_phone_profile(grid_clips):
    """8-kHz or phone-line sound has nothing above 4 kHz: it is told apart from wide-band sound, and measured
    against the voice profile fitted through a telephone channel, under that profile's own threshold."""
    from lipread.audio.voice import telephone
    from lipread.io.audio import read_audio
    from lipread.pipelines.speaker import phone_band, phone_channel

    wave = read_audio(grid_clips[0])
    line = telephone(wave)
    assert not phone_band(wave) and phone_band(line) and phone_band(phone_channel(wave))
    assert not phone_band(np.zeros(16000, np.float32)) and not phone_band(None)
    assert np.allclose(phone_channel(phone_channel(wave)), phone_channel(wave), atol=1e-5)  # idempotent
    clips = [read_audio(c) for c in grid_clips[1:41]]
    speaker = {"voice": fit_profile([voice_features(w) for w in clips], full=True),
               "voice_phone": fit_profile([voice_features(phone_channel(telephone(w))) for w in clips], full=True)}
    wide, phone = speaker_distances(speaker, wave=wave), speaker_distances(speaker, wave=line)
    assert set(wide) == {"voice_distance"} and set(phone) == {"voice_phone_distance"}
    assert phone["voice_phone_distance"] < distance(speaker["voice"], voice_features(line))
    lines = speaker_warnings(speaker, {"voice_phone_distance": 99.0})
    assert len(lines) == 1 and "over a phone line" in lines[0]
    assert speaker_warnings(speaker, {"voice_phone_distance": 0.1}) == []
    del speaker["voice_phone"]  # a profile without one: the wide-band profile measures phone sound too
    assert set(speaker_distances(speaker, wave=line)) == {"voice_distance"}


def test_voice_and_face_features_measure_only_what_is_there():
    assert voice_features(np.zeros(16000, np.float32)) is None
    assert voice_features(np.zeros(100, np.float32)) is None
    assert face_features(np.zeros((0, 50, 100, 3), np.uint8)) is None
    assert face_features(np.zeros((5, 50, 100, 1), np.uint8)) is None
    assert face_features(np.full((5, 50, 100, 3), 128, np.uint8)).shape == (75,)


def _librosa_voice_features(wave, sample_rate=16000):
    """voice_features as it was with librosa (before issue 27): the shipped profiles were made with it."""
    from lipread.pipelines.speaker import MIN_SPEECH_FRAMES, SPEECH_DB

    librosa = pytest.importorskip("librosa")
    if wave is None or len(wave) < sample_rate // 4:
        return None
    wave = np.asarray(wave, dtype=np.float32)
    mel = librosa.feature.melspectrogram(y=wave, sr=sample_rate, n_fft=512, hop_length=160, win_length=400,
                                         n_mels=40, power=2.0)
    logmel = librosa.power_to_db(mel, ref=1.0, top_db=None)
    energy = logmel.max(axis=0)
    if not np.isfinite(energy).any() or float(energy.max()) < -60.0:
        return None
    speech = energy > float(energy.max()) - SPEECH_DB
    if int(speech.sum()) < MIN_SPEECH_FRAMES:
        return None
    mfcc = librosa.feature.mfcc(S=logmel[:, speech], n_mfcc=13)[1:]
    f0 = librosa.yin(wave, fmin=60, fmax=400, sr=sample_rate, frame_length=1024, hop_length=160)
    n = min(len(f0), len(speech))
    pitch = float(np.log(np.median(f0[:n][speech[:n]])))
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), [pitch]]).astype(np.float64)


def _assert_voice_equal(wave):
    ref, ours = _librosa_voice_features(wave), voice_features(wave)
    if ref is None:
        assert ours is None
        return
    assert ours is not None and ours.shape == ref.shape == (25,) and ours.dtype == np.float64
    # MFCC means and spreads: librosa's float32 DCT differs by float32 rounding (1.5e-5 seen); the log
    # pitch is the same to the bit (the same YIN, the same float32 FFT)
    np.testing.assert_allclose(ours[:24], ref[:24], rtol=0, atol=1e-4)
    assert ours[24] == ref[24]


def test_voice_features_equal_librosa_on_synthetic_voices():
    """The NumPy voice measure (issue 27) gives librosa's numbers, which the stored profiles were made with."""
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    for f0 in (90.0, 130.0, 220.0):
        voiced = 0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 10))
        voiced *= (np.sin(2 * np.pi * 2.0 * t) > 0)  # syllables and pauses
        for wave in (voiced, voiced + rng.normal(0, 0.01, t.shape), voiced + rng.normal(0, 0.1, t.shape)):
            _assert_voice_equal(np.asarray(wave, np.float32))
    for wave in (np.zeros(16000), rng.normal(0, 0.1, 3999), rng.normal(0, 0.1, 4000), 1e-5 * rng.normal(size=8000)):
        _assert_voice_equal(np.asarray(wave, np.float32))


@pytest.mark.grid
def test_voice_features_equal_librosa_on_grid_speech(grid_clips):
    """GRID speech as recorded, with white noise at about 10 dB, and 60 dB quieter."""
    from lipread.io.audio import read_audio

    rng = np.random.default_rng(1)
    for clip in grid_clips[:6]:
        speech = read_audio(clip)
        for wave in (speech, speech + rng.normal(0, 0.03, speech.shape).astype(np.float32), speech * 1e-3):
            _assert_voice_equal(wave)


def test_speaker_warnings_name_the_measure_and_the_limit():
    speaker = {"voice": {"threshold": 2.0}, "face": {"threshold": 3.0}}
    assert speaker_warnings(speaker, {"voice_distance": 1.0, "face_distance": 2.9}) == []
    lines = speaker_warnings(speaker, {"voice_distance": 2.5, "face_distance": 3.5})
    assert len(lines) == 2 and "voice distance 2.50, training clips up to 2.00" in lines[0]
    assert "a speaker the model never saw" in lines[1]
    assert speaker_warnings(None, {"voice_distance": 9.0}) == []


def test_calibration_and_the_stored_profile_on_real_clips(grid_cache, grid_av_cache):
    """calibrate_speaker makes a face profile from any cache and a voice profile where the sound was kept;
    the zoo model's profile (810 training clips) accepts the speaker's clips and rejects his face zoomed,
    warped and rotated in hue, and his voice an octave higher."""
    from lipread.audio.voice import pitch_shift
    from lipread.data.cache import CacheReader
    from lipread.data.standin import StandIn, standin_video
    from lipread.pipelines.transcribe import load_model

    small = calibrate_speaker(str(grid_cache), "train", noisy=False)
    assert "face" in small and "voice" not in small  # that cache kept no sound
    av = calibrate_speaker(str(grid_av_cache), "train", noisy=True)
    assert av["voice"]["clips"] == 10 and len(av["voice"]["precision"]) == 25  # 5 clips, each also noisy
    speaker = load_model("wlas-grid-s1").config["domain"]["speaker"]
    reader = CacheReader(grid_av_cache)
    other = StandIn("x", formant=1.0, tilt_db=0.0, zoom=1.35, warp=0.4, hue=40.0, noise=0.0)
    accepted = 0
    for c in reader.clips:
        mouth, wave = np.asarray(reader.mouth(c)), reader.wave(c)
        near = speaker_distances(speaker, mouth, wave)
        # s1/bbaf3s is not: its mouth crop jumps to a dark region at frame 12 (a front-end failure)
        accepted += near["face_distance"] <= speaker["face"]["threshold"]
        assert near["voice_distance"] <= speaker["voice"]["threshold"]
        far = speaker_distances(speaker, standin_video(mouth, other, c.id), pitch_shift(wave, 12.0))
        assert far["face_distance"] > speaker["face"]["threshold"]
        assert far["voice_distance"] > speaker["voice"]["threshold"]
    assert accepted >= len(reader.clips) - 1


def test_transcribe_warns_on_a_voice_the_model_never_heard(grid_clips, tmp_path):
    """The zoo model's stored profile: a training-speaker clip reads without a speaker warning; the same
    clip with the voice an octave higher (a voice far from his) warns, and names the voice."""
    from lipread.audio.voice import pitch_shift
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video
    from lipread.io.writer import write_video
    from lipread.pipelines.transcribe import Transcriber

    src = grid_clips[0]
    clip, wave = read_video(src), read_audio(src)
    higher = write_video(tmp_path / "higher.mp4", clip.frames, clip.fps, audio=pitch_shift(wave, 12.0))
    reader = Transcriber("wlas-grid-s1")
    assert reader.domain.get("speaker", {}).get("voice"), "the zoo model carries no voice profile"
    same = reader.transcribe(src)
    assert not [w for w in same.warnings if "never saw" in w]
    other = reader.transcribe(higher)
    assert [w for w in other.warnings if w.startswith("a voice unlike the training speaker's")]
    reader.close()


def test_stored_profiles_are_well_formed():
    from lipread.models.zoo import resolve_model

    for name, parts in (("wlas-grid-s1", {"voice", "voice_phone", "face"}), ("lipnet-grid-s1", {"face"})):
        cfg = json.loads((resolve_model(name) / "config.json").read_text())
        speaker = cfg["domain"]["speaker"]
        assert parts <= set(speaker)
        for part in parts:
            p = speaker[part]
            assert p["threshold"] > 0 and p["clips"] >= 800 and len(p["mean"]) == (75 if part == "face" else 25)
