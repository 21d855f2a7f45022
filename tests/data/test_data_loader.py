"""PreparedDataset, collate/Batch, the frame-budget sampler and the augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_frontend import FACTORY, expected_mouth
from trees import make_grid

from lipread.data import FrameBudgetBatchSampler, PreparedDataset, collate
from lipread.data.augment import (
    AugmentConfig,
    VideoAugment,
    audio_index,
    crop,
    cutout,
    drop_dup_index,
    low_resolution,
    shift,
    time_mask,
    word_span,
)
from lipread.data.corpora import read_corpus
from lipread.data.prepare import prepare
from lipread.errors import DataError
from lipread.text import Tokenizer


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("loader")
    make_grid(root / "grid", {"s1": 20})
    entries = read_corpus("grid", root / "grid", val_fraction=0.25)
    prepare(entries, root / "out", {"audio": True, "preset": "lipnet"}, corpus={"name": "grid"},
            worker_factory=FACTORY, shard_clips=8, progress=False)
    return root / "out"


def test_dataset_splits_and_samples(cache):
    train, val = PreparedDataset(cache, "train"), PreparedDataset(cache, "val")
    assert (len(train), len(val)) == (15, 5) and not {c.id for c in train.clips} & {c.id for c in val.clips}
    s = val[0]
    np.testing.assert_array_equal(s.video, expected_mouth(s.id))  # eval: no augmentation for this preset
    assert s.targets == Tokenizer.from_name("grid").encode(s.text) and s.audio.shape == (4 * s.video.shape[0], 5)
    assert train.lengths == [expected_mouth(c.id).shape[0] for c in train.clips]
    assert train.preprocess["input_size"] == [6, 8] and train.preprocess["channels"] == 3
    with pytest.raises(DataError, match="no clips in split 'test'"):
        PreparedDataset(cache, "test")
    with pytest.raises(DataError, match="unknown split"):
        PreparedDataset(cache, "dev")


def test_collate_pads_and_orders_axes(cache):
    ds = PreparedDataset(cache, None)
    samples = [ds[i] for i in range(4)]
    b = collate(samples)
    t = [s.video.shape[0] for s in samples]
    assert b.video.shape == (4, 3, max(t), 6, 8) and b.video.dtype == torch.float32
    assert b.video_lengths.tolist() == t and b.ids == [s.id for s in samples]
    for i, s in enumerate(samples):
        expect = torch.from_numpy(s.video.copy()).permute(3, 0, 1, 2).float() / 255
        torch.testing.assert_close(b.video[i, :, : t[i]], expect)
        assert b.video[i, :, t[i]:].abs().sum() == 0
        assert b.targets[i, : len(s.targets)].tolist() == s.targets and b.targets[i, len(s.targets):].sum() == 0
    assert b.target_lengths.tolist() == [len(s.targets) for s in samples]
    assert b.audio.shape == (4, 4 * max(t), 5) and b.audio_lengths.tolist() == [4 * x for x in t]
    assert float(b.video.max()) <= 1.0 and b.to("cpu").video.shape == b.video.shape
    loader = torch.utils.data.DataLoader(ds, batch_size=3, collate_fn=collate)
    assert len(next(iter(loader))) == 3


def test_train_augmentation_is_reproducible_per_epoch_and_index(cache):
    a = PreparedDataset(cache, "train", train=True, seed=5)
    b = PreparedDataset(cache, "train", train=True, seed=5)
    for ds in (a, b):
        ds.set_epoch(3)
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i].video, b[i].video)
    first = [a[i].video for i in range(len(a))]
    a.set_epoch(4)
    assert any(f.shape != a[i].video.shape or (f != a[i].video).any() for i, f in enumerate(first))


def test_sampler_budget_buckets_and_determinism():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 100, size=200).tolist()
    s = FrameBudgetBatchSampler(lengths, max_frames=400, seed=1)
    s.set_epoch(2)
    batches = list(s)
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert all(len(b) * max(lengths[i] for i in b) <= 400 for b in batches)
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 10  # bucketed by length
    assert list(FrameBudgetBatchSampler(lengths, max_frames=400, seed=1).batches(2)) == batches
    assert s.batches(3) != batches
    s.set_epoch(2, start=5)
    assert list(s) == batches[5:] and len(s) == len(batches) - 5
    with pytest.raises(ValueError, match="exceeds"):
        FrameBudgetBatchSampler([500], max_frames=400)


def test_sampler_fixed_size_and_ranks():
    lengths = [75] * 90
    s = FrameBudgetBatchSampler(lengths, max_batch_size=8, seed=0, drop_last=True)
    assert all(len(b) == 8 for b in s) and len(s) == 11
    ranks = [FrameBudgetBatchSampler(lengths, max_batch_size=8, num_replicas=2, rank=r) for r in range(2)]
    a, b = list(ranks[0]), list(ranks[1])
    assert len(a) == len(b) == 6 and not {i for x in a for i in x} & {i for x in b for i in x}


def test_crop_shift_flip_and_masks():
    video = np.arange(2 * 96 * 96 * 1, dtype=np.int64).reshape(2, 96, 96, 1).astype(np.uint8)
    rng = np.random.default_rng(0)
    assert crop(video, (88, 88), rng).shape == (2, 88, 88, 1)
    np.testing.assert_array_equal(crop(video, (88, 88), None), video[:, 4:92, 4:92])
    clip = np.random.default_rng(1).integers(0, 255, (3, 50, 100, 3), dtype=np.uint8)
    moved = shift(clip, 4, np.random.default_rng(2))
    assert moved.shape == clip.shape
    assert any((moved[:, 4:-4, 4:-4] == clip[:, 4 - dy : 46 - dy, 4 - dx : 96 - dx]).all()
               for dy in range(-4, 5) for dx in range(-4, 5))
    masked = time_mask(np.full((30, 2, 2, 1), 7, np.uint8) * np.arange(30)[:, None, None, None].astype(np.uint8), 2, 5,
                       np.random.default_rng(3))
    assert masked.shape == (30, 2, 2, 1)
    flipped, _ = VideoAugment(AugmentConfig(flip=1.0))(clip, np.random.default_rng(0))
    np.testing.assert_array_equal(flipped, clip[:, :, ::-1])


def test_cutout_is_one_rectangle_on_every_frame():
    clip = np.random.default_rng(1).integers(0, 255, (5, 50, 100, 3), dtype=np.uint8)
    for seed in range(20):
        out = cutout(clip, 0.4, np.random.default_rng(seed))
        changed = (out != clip).any(axis=(0, 3))  # (H, W) pixels changed on some frame
        ys, xs = np.nonzero(changed)
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert 10 - 1 <= h <= 20 and 20 - 1 <= w <= 40  # [size / 2, size] of 50 x 100
        box = out[:, ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        assert (box == box[0, 0, 0]).all()  # one colour, the same on every frame
        untouched = ~np.zeros_like(changed)
        untouched[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = False
        np.testing.assert_array_equal(out[:, untouched], clip[:, untouched])
    never, _ = VideoAugment(AugmentConfig(cutout=0.0))(clip, np.random.default_rng(0))
    np.testing.assert_array_equal(never, clip)
    always, _ = VideoAugment(AugmentConfig(cutout=1.0))(clip, np.random.default_rng(0))
    assert (always != clip).any()


def test_low_resolution_loses_detail_not_the_picture():
    # a mouth-sized crop with fine stripes and a coarse dark blob
    yy, xx = np.mgrid[0:50, 0:100]
    img = (((xx // 2) % 2) * 120 + 60).astype(np.uint8)
    img[15:35, 30:70] = 10
    clip = np.repeat(np.stack([img] * 3, axis=-1)[None], 4, axis=0)
    out = low_resolution(clip, (0.15, 0.16), np.random.default_rng(0))
    assert out.shape == clip.shape and out.dtype == np.uint8
    detail = lambda v: np.abs(np.diff(v[0, :, :, 0].astype(float), axis=1)).mean()  # noqa: E731
    assert detail(out) < 0.2 * detail(clip)  # the 2-px stripes are gone
    assert out[0, 20:30, 40:60, 0].mean() < 60 < out[0, 40:50, 0:20, 0].mean()  # the blob is still there
    assert (out[0] == out[3]).all()  # one scale for the whole clip
    mild = low_resolution(clip, (0.6, 0.6), np.random.default_rng(0))
    assert detail(out) < detail(mild)  # the smaller the face, the less detail
    never, _ = VideoAugment(AugmentConfig(lowres=0.0))(clip, np.random.default_rng(0))
    np.testing.assert_array_equal(never, clip)
    always, _ = VideoAugment(AugmentConfig(lowres=1.0))(clip, np.random.default_rng(0))
    assert detail(always) < detail(clip)


def test_frame_drop_dup_rate_and_audio_follow():
    index = drop_dup_index(100_000, 0.05, 0.05, np.random.default_rng(0))
    counts = np.bincount(index, minlength=100_000)
    assert abs((counts == 0).mean() - 0.05) < 0.005 and abs((counts == 2).mean() - 0.0475) < 0.005
    assert (np.diff(index) >= 0).all()
    np.testing.assert_array_equal(audio_index(np.array([0, 2, 2])), [0, 1, 2, 3, 8, 9, 10, 11, 8, 9, 10, 11])
    video = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    audio = np.repeat(np.arange(20, dtype=np.float32), 4)[:, None]
    out_v, out_a = VideoAugment(AugmentConfig(frame_drop=0.2, frame_dup=0.2))(video, np.random.default_rng(4), audio)
    assert out_a.shape[0] == 4 * out_v.shape[0] and (out_a[::4, 0] == out_v[:, 0, 0, 0]).all()


def test_word_span_picks_contiguous_runs_at_their_aligned_frames():
    words = [["a", 0.0, 0.2], ["b", 0.2, 0.4], ["sp", 0.4, 0.4], ["c", 0.4, 1.0]]
    rng = np.random.default_rng(0)
    seen = {}
    for _ in range(300):
        start, end, text = word_span(words, 30, 25.0, rng, margin=1)
        seen[text] = (start, end)
    # every contiguous run of the usable words (the zero-length "sp" is skipped), and nothing else
    assert set(seen) == {"a", "b", "c", "a b", "b c", "a b c"}
    assert seen["b"] == (4, 11)  # 0.2 s * 25 = frame 5, minus 1; 0.4 s = frame 10, plus 1 (end exclusive)
    assert seen["a"] == (0, 6) and seen["c"] == (9, 26) and seen["a b c"] == (0, 26)
    # on a clip that starts 0.2 s into the source, and clipped to the clip's 20 frames
    rng = np.random.default_rng(1)
    spans = {t: (s, e) for s, e, t in (word_span(words, 20, 25.0, rng, offset=0.2, margin=1) for _ in range(300))}
    assert spans["b"] == (0, 6) and spans["c"] == (4, 20)
    assert word_span([], 30, 25.0, rng) is None and word_span([["x", 0.5, 0.5]], 30, 25.0, rng) is None


def test_dataset_word_spans_cut_text_video_and_audio_together(tmp_path):
    make_grid(tmp_path / "grid", {"s1": 8}, aligned={"s1"})
    entries = read_corpus("grid", tmp_path / "grid", val_fraction=0.25)
    prepare(entries, tmp_path / "out", {"audio": True, "preset": "lipnet"}, corpus={"name": "grid"},
            worker_factory=FACTORY, progress=False)
    plain = {"max_shift": 0, "flip": 0.0, "frame_drop": 0.0, "frame_dup": 0.0}
    spans = PreparedDataset(tmp_path / "out", "train", augment={**plain, "word_spans": 1.0}, train=True, seed=3)
    cut = 0
    for i, info in enumerate(spans.clips):
        s = spans[i]
        words = [w[0] for w in info.words]
        got = s.text.split()
        k = len(got)
        assert any(words[j : j + k] == got for j in range(len(words) - k + 1)), (s.text, info.text)
        assert s.targets == spans.tokenizer.encode(s.text)
        assert s.audio.shape[0] == 4 * s.video.shape[0] > 0
        cut += s.video.shape[0] < info.frames
    assert cut > 0  # the fake's aligned words (0.2 s each) fall partly inside its 10-16 frame clips
    # word_spans=0 (the default) draws nothing extra: samples equal a dataset without the option
    a = PreparedDataset(tmp_path / "out", "train", train=True, seed=3)
    b = PreparedDataset(tmp_path / "out", "train", augment={"word_spans": 0.0}, train=True, seed=3)
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i].video, b[i].video)
    # evaluation never cuts
    val = PreparedDataset(tmp_path / "out", "val", augment={"word_spans": 1.0}, train=False)
    assert all(val[i].text == c.text and val[i].video.shape[0] == c.frames for i, c in enumerate(val.clips))


def test_frame_labels_follow_drop_dup_and_word_spans_and_collate_pads(tmp_path):
    make_grid(tmp_path / "grid", {"s1": 6}, aligned={"s1"})
    entries = read_corpus("grid", tmp_path / "grid", val_fraction=0.34)
    prepare(entries, tmp_path / "out", {"audio": True, "preset": "lipnet"}, corpus={"name": "grid"},
            worker_factory=FACTORY, progress=False)
    plain = {"max_shift": 0, "flip": 0.0, "frame_drop": 0.0, "frame_dup": 0.0}
    ds = PreparedDataset(tmp_path / "out", "train", augment=plain, train=True, frame_labels=True)
    longest = int(np.argmax(ds.lengths))  # the fake's first word starts at 0.4 s (frame 10)
    s = ds[longest]
    info = ds.clips[longest]
    assert s.frame_labels.shape == (s.video.shape[0],) and (s.frame_labels > 0).any()
    # every labelled letter belongs to the clip's words, in order, and silence is 0
    letters = [t for w in info.words for t in ds.tokenizer.encode(w[0])]
    seen = [int(t) for i, t in enumerate(s.frame_labels) if t > 0 and (i == 0 or t != s.frame_labels[i - 1])]
    assert set(seen) <= set(letters)
    # frame deletion/duplication moves the labels with their frames
    video = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    labels = np.arange(20, dtype=np.int64)
    v, _, lab = VideoAugment(AugmentConfig(frame_drop=0.2, frame_dup=0.2)).apply(video, np.random.default_rng(4),
                                                                                   labels=labels)
    np.testing.assert_array_equal(v[:, 0, 0, 0], lab)
    assert len(lab) != 20 or not np.array_equal(lab, labels)
    # word spans cut the labels with the frames
    spans = PreparedDataset(tmp_path / "out", "train", augment={**plain, "word_spans": 1.0}, train=True,
                            frame_labels=True, seed=1)
    for i in range(len(spans)):
        assert spans[i].frame_labels.shape[0] == spans[i].video.shape[0]
    batch = collate([ds[longest], spans[0]])
    t = batch.video.shape[2]
    assert batch.frame_labels.shape == (2, t)
    short = int(batch.video_lengths.min())
    assert (batch.frame_labels[int(batch.video_lengths.argmin()), short:] == -100).all()
    # a dataset without word alignments cannot make frame labels
    plain_ds = PreparedDataset(tmp_path / "out", "train", train=True)
    assert plain_ds[0].frame_labels is None and collate([plain_ds[0]]).frame_labels is None
