"""Seeded video augmentations of the strongest lipreading recipes.

All operate on numpy clips ``(T, H, W, C)`` uint8 (and optionally the matching audio features
``(4T, F)``) and draw from a ``numpy.random.Generator`` they are given, so a clip's augmentation
is a pure function of ``(seed, epoch, index)``: a resumed training run sees the same batches.

- random crop (e.g. 88x88 from 96x96; training) / centre crop (evaluation)        [auto_avsr]
- small random shifts, for 100x50 LipNet crops (pad with the edge, crop back)      [LipNet]
- horizontal flip (p=0.5)                                                          [LipNet, auto_avsr]
- time masking: up to ``time_masks`` spans of up to ``time_mask_frames`` frames
  replaced by the clip's mean frame                                                [auto_avsr]
- per-frame deletion / duplication with probability p (0.05)                       [LipNet]
- low resolution: with probability ``lowres`` the clip is shrunk to a random fraction of its size and
  enlarged back, as the mouth of a face far from the camera is cropped (a 40-px face gives a mouth
  of about 16 px: 0.16 of a 100x50 crop)                                          [issue 25]
- appearance of another speaker's mouth, per clip [issue 26]: an affine jitter (scale, aspect, rotation,
  shift), photometric changes (brightness, contrast, gamma, colour balance; grey), Gaussian blur and JPEG
  compression
- speed: the clip played 0.85-1.2x as fast, frames resampled in step with the sound (the dataset applies
  it to the waveform too)                                                          [Kaldi, issue 26]
- time shift: the clip starts and ends up to ``time_shift_frames`` earlier or later (edge frames repeated,
  or silence cut, never into a word), as windows cut from a long recording do  [issue 25]
- word spans: with probability ``word_spans`` a training clip is replaced by a random run of
  its whole words, cut at their aligned times (needs word alignments, e.g. GRID's .align)  [LipNet]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.config import build_config
from lipread.types import AUDIO_FRAMES_PER_VIDEO_FRAME


@dataclass
class AugmentConfig:
    """Augmentation options. ``crop`` = (H, W) of a random (train) / centre (eval) crop, or None."""

    crop: tuple[int, int] | None = None
    max_shift: int = 0
    """Random translation of up to this many pixels in x and y (edge padded)."""
    flip: float = 0.0
    """Probability of a horizontal flip."""
    cutout: float = 0.0
    """Probability that a clip gets a cutout: one rectangle, the same on every frame, set to the clip's
    mean colour (random erasing, Zhong et al. 2020; it makes the model read the whole mouth)."""
    cutout_size: float = 0.4
    """The cutout's height and width as a fraction of the crop's (each drawn in [size / 2, size])."""
    lowres: float = 0.0
    """Probability that a clip is seen at low resolution (:func:`low_resolution`)."""
    lowres_scale: tuple[float, float] = (0.15, 0.6)
    """The range of the fraction of its size a low-resolution clip is shrunk to (drawn uniformly)."""
    affine: float = 0.0
    """Probability of an affine jitter of the mouth crop (the same for the whole clip): mouths differ in size,
    shape and tilt, and crops of them in placement."""
    affine_scale: tuple[float, float] = (0.85, 1.15)
    affine_aspect: tuple[float, float] = (0.9, 1.1)
    """Width scale over height scale."""
    affine_rotate: float = 8.0
    """Degrees, either way."""
    affine_shift: float = 0.08
    """Fraction of the crop's width / height, either way."""
    photometric: float = 0.0
    """Probability of brightness / contrast / gamma / colour-balance changes (lighting, camera, skin)."""
    brightness: float = 0.15
    """Added fraction of full scale, either way."""
    contrast: tuple[float, float] = (0.7, 1.3)
    gamma: tuple[float, float] = (0.7, 1.4)
    colour: float = 0.1
    """Per-channel gain in 1 -/+ this."""
    grey: float = 0.0
    """Probability that the clip is turned grey (kept as 3 equal channels)."""
    blur: float = 0.0
    """Probability of a Gaussian blur (out of focus, motion)."""
    blur_sigma: tuple[float, float] = (0.3, 1.5)
    jpeg: float = 0.0
    """Probability of JPEG compression of every frame (a streamed or re-encoded video)."""
    jpeg_quality: tuple[int, int] = (15, 60)
    speed: float = 0.0
    """Probability that the clip is played faster or slower (sound and frames together)."""
    speed_range: tuple[float, float] = (0.85, 1.2)
    """Speed factors (1.2 = 20% faster, fewer frames)."""
    time_shift: float = 0.0
    """Probability that the clip's start and end are moved (each by up to ``time_shift_frames``)."""
    time_shift_frames: int = 12
    time_masks: int = 0
    time_mask_frames: int = 0
    """Up to ``time_masks`` spans of 1..``time_mask_frames`` frames set to the mean frame."""
    frame_drop: float = 0.0
    """Probability that a frame is deleted (LipNet: 0.05)."""
    frame_dup: float = 0.0
    """Probability that a frame is duplicated (LipNet: 0.05)."""
    word_spans: float = 0.0
    """Probability that a clip with word alignments is cut to a random run of 1..all of its words
    (their frames and their text). LipNet trains on such word-level instances as well as sentences;
    on 810 GRID clips it gives many more distinct targets and ties each word to its own frames."""
    word_spans_decay_epochs: int = 0
    """A curriculum from words to sentences: the word-span probability falls linearly from ``word_spans`` at
    epoch 0 to 0 at this epoch (0 = constant)."""
    span_margin: int = 2
    """Frames kept on each side of a word span (alignment times are not frame-exact)."""
    max_words: int = 0
    """At most this many words in a word span (0 = up to all): curriculum stages grow it (LRS recipe)."""
    audio_time_masks: int = 0
    audio_time_mask_rows: int = 0
    """SpecAugment on the audio features: up to ``audio_time_masks`` spans of 1..``audio_time_mask_rows``
    rows (10 ms each) set to zero (the mean after per-utterance normalisation)."""
    audio_freq_masks: int = 0
    audio_freq_mask_bins: int = 0
    """Up to ``audio_freq_masks`` bands of 1..``audio_freq_mask_bins`` feature dimensions set to zero."""


PRESET_AUGMENT = {
    # LipNet (Assael et al. 2016): 100x50 crops, flips, per-frame deletion/duplication; small shifts
    "lipnet": AugmentConfig(max_shift=4, flip=0.5, frame_drop=0.05, frame_dup=0.05),
    # auto_avsr (Ma et al. 2023): 96x96 aligned crops, random crop 88, flip, time masking (0.4 s)
    "aligned96": AugmentConfig(crop=(88, 88), flip=0.5, time_masks=2, time_mask_frames=10),
    "aligned48": AugmentConfig(crop=(44, 44), flip=0.5, time_masks=2, time_mask_frames=10),
}


def augment_config(preset: str, options: dict | None = None) -> AugmentConfig:
    """The preset's default augmentation with ``options`` (a dict of AugmentConfig fields) applied."""
    base = PRESET_AUGMENT.get(preset, AugmentConfig())
    data = {k: getattr(base, k) for k in AugmentConfig.__dataclass_fields__}
    data.update(options or {})
    return build_config(AugmentConfig, data)


def eval_crop(preset: str):
    """The deterministic part of the preset's augmentation (its centre crop, e.g. 88x88 of ``aligned96``),
    which evaluation and inference apply to every clip: ``(T, H, W, C) uint8 -> (T, h, w, C)``."""
    size = augment_config(preset).crop
    if size is None:
        return lambda video: video
    return lambda video: np.ascontiguousarray(crop(video, tuple(size), None))


def crop(video: np.ndarray, size: tuple[int, int], rng: np.random.Generator | None) -> np.ndarray:
    """Crop (T, H, W, C) to ``size``: at a random place with ``rng``, centred without."""
    _, h, w, _ = video.shape
    ch, cw = size
    if ch > h or cw > w:
        raise ValueError(f"crop {size} is larger than the clip's {h}x{w}")
    y = int(rng.integers(0, h - ch + 1)) if rng is not None else (h - ch) // 2
    x = int(rng.integers(0, w - cw + 1)) if rng is not None else (w - cw) // 2
    return video[:, y : y + ch, x : x + cw]


def shift(video: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate every frame by the same random (dy, dx) in [-max_shift, max_shift], edge padded."""
    _, h, w, _ = video.shape
    dy, dx = (int(v) for v in rng.integers(-max_shift, max_shift + 1, size=2))
    m = max_shift
    padded = np.pad(video, ((0, 0), (m, m), (m, m), (0, 0)), mode="edge")
    return padded[:, m - dy : m - dy + h, m - dx : m - dx + w]


def time_mask(video: np.ndarray, n: int, max_len: int, rng: np.random.Generator) -> np.ndarray:
    """Set up to ``n`` random spans of 1..``max_len`` frames to the clip's mean frame."""
    t = video.shape[0]
    if t == 0 or n <= 0 or max_len <= 0:
        return video
    out = video.copy()
    mean = video.mean(axis=0).astype(video.dtype)
    for _ in range(int(rng.integers(0, n + 1))):
        length = int(rng.integers(1, min(max_len, t) + 1))
        start = int(rng.integers(0, t - length + 1))
        out[start : start + length] = mean
    return out


def low_resolution(video: np.ndarray, scale: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Every frame shrunk (area averaging) to a random fraction in ``scale`` of its size, the same for the
    clip, and enlarged back (bilinear): the detail a far face's crop has lost (a copy, same shape)."""
    import cv2

    t, h, w, c = video.shape
    f = float(rng.uniform(*scale))
    small = (max(2, int(round(w * f))), max(2, int(round(h * f))))
    out = np.empty_like(video)
    for i in range(t):
        img = cv2.resize(cv2.resize(video[i], small, interpolation=cv2.INTER_AREA), (w, h),
                         interpolation=cv2.INTER_LINEAR)
        out[i] = img.reshape(h, w, c)
    return out


def affine_jitter(video: np.ndarray, c: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """One random similarity-plus-aspect transform about the crop's centre, the same on every frame, edges
    replicated (a copy, same shape)."""
    import cv2

    t, h, w, ch = video.shape
    scale = rng.uniform(*c.affine_scale)
    aspect = rng.uniform(*c.affine_aspect)
    sx, sy = scale * np.sqrt(aspect), scale / np.sqrt(aspect)
    angle = np.deg2rad(rng.uniform(-c.affine_rotate, c.affine_rotate))
    dx, dy = rng.uniform(-c.affine_shift, c.affine_shift) * w, rng.uniform(-c.affine_shift, c.affine_shift) * h
    cos, sin = np.cos(angle), np.sin(angle)
    a = np.array([[cos * sx, -sin * sy], [sin * sx, cos * sy]])
    centre = np.array([w / 2, h / 2])
    m = np.hstack([a, (centre - a @ centre + [dx, dy])[:, None]]).astype(np.float32)
    out = np.empty_like(video)
    for i in range(t):
        out[i] = cv2.warpAffine(video[i], m, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE).reshape(h, w, ch)
    return out


def photometric(video: np.ndarray, c: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Contrast about the clip's mean, brightness, per-channel gain, then gamma (a copy, uint8)."""
    x = video.astype(np.float32) / 255.0
    mean = x.mean()
    x = (x - mean) * rng.uniform(*c.contrast) + mean + rng.uniform(-c.brightness, c.brightness)
    x = x * rng.uniform(1 - c.colour, 1 + c.colour, size=video.shape[-1]).astype(np.float32)
    x = np.clip(x, 0.0, 1.0) ** rng.uniform(*c.gamma)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def to_grey(video: np.ndarray) -> np.ndarray:
    """Luma in every channel (ITU-R 601 weights), same shape."""
    if video.shape[-1] != 3:
        return video
    y = video.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    return np.repeat(np.clip(np.round(y), 0, 255).astype(np.uint8)[..., None], 3, axis=-1)


def gaussian_blur(video: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    t, h, w, ch = video.shape
    out = np.empty_like(video)
    for i in range(t):
        out[i] = cv2.GaussianBlur(video[i], (0, 0), sigmaX=float(sigma)).reshape(h, w, ch)
    return out


def jpeg_compress(video: np.ndarray, quality: int) -> np.ndarray:
    """Every frame encoded and decoded as JPEG at ``quality`` (RGB in, RGB out)."""
    import cv2

    t, h, w, ch = video.shape
    out = np.empty_like(video)
    flags = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
    for i in range(t):
        ok, buf = cv2.imencode(".jpg", video[i][..., ::-1] if ch == 3 else video[i], flags)
        if not ok:
            raise RuntimeError("OpenCV could not JPEG-encode a frame")
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR if ch == 3 else cv2.IMREAD_GRAYSCALE)
        out[i] = (img[..., ::-1] if ch == 3 else img).reshape(h, w, ch)
    return out


def speed_index(t: int, factor: float) -> np.ndarray:
    """Frame indices of a clip of ``t`` frames played ``factor`` times as fast (nearest frame):
    ``round(t / factor)`` frames."""
    n = max(1, int(round(t / factor)))
    return np.minimum(np.round(np.arange(n) * factor).astype(np.int64), t - 1)


def shift_index(t: int, lead: int, tail: int) -> np.ndarray:
    """Frame indices with ``lead`` frames added at the start (the first frame repeated; negative: that many
    cut) and ``tail`` at the end likewise. Never empty."""
    first = max(0, -lead)
    last = t - max(0, -tail)
    if last <= first:
        return np.arange(t)
    return np.concatenate([np.zeros(max(0, lead), np.int64), np.arange(first, last),
                           np.full(max(0, tail), t - 1, np.int64)])


def draw_shift(t: int, speech: tuple[int, int] | None, max_frames: int, rng: np.random.Generator,
               margin: int = 2) -> tuple[int, int]:
    """Random (lead, tail) frame changes in [-max_frames, max_frames]; cuts stop ``margin`` frames short of
    ``speech`` = (first, end) frames of the words (None: cuts stop at a quarter of the clip)."""
    first, end = speech if speech is not None else (t // 4, t - t // 4)
    lead = int(rng.integers(-max_frames, max_frames + 1))
    tail = int(rng.integers(-max_frames, max_frames + 1))
    lead = max(lead, -max(0, first - margin))
    tail = max(tail, -max(0, t - end - margin))
    return lead, tail


def cutout(video: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """One rectangle of (size/2..size) x the frame's height and width, at a random place, set to the clip's
    mean colour on every frame (a copy)."""
    _, h, w, _ = video.shape
    ch = max(1, int(round(h * rng.uniform(size / 2, size))))
    cw = max(1, int(round(w * rng.uniform(size / 2, size))))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = video.copy()
    out[:, y : y + ch, x : x + cw] = video.mean(axis=(0, 1, 2)).astype(video.dtype)
    return out


def drop_dup_index(t: int, p_drop: float, p_dup: float, rng: np.random.Generator) -> np.ndarray:
    """Frame indices after LipNet's deletion/duplication: each frame deleted with ``p_drop``,
    else doubled with ``p_dup``. Never returns an empty index."""
    u = rng.random(t)
    keep = u >= p_drop
    dup = (rng.random(t) < p_dup) & keep
    index = np.repeat(np.arange(t), keep.astype(int) + dup.astype(int))
    return index if index.size else np.arange(t)


def word_span(
    words: list, frames: int, fps: float, rng: np.random.Generator, offset: float = 0.0, margin: int = 2,
    max_words: int = 0,
) -> tuple[int, int, str] | None:
    """A random run of whole words: ``(first_frame, end_frame, text)`` with end exclusive.

    ``words``: ``[[word, start_s, end_s], ...]`` in seconds on the source's clock; ``offset``: the
    clip's start on that clock. The run has 1..len(words) words (uniform; at most ``max_words`` when
    that is > 0), at a uniform position;
    its frames are the aligned times plus ``margin`` frames each side, clipped to the clip.
    None when there are no usable words.
    """
    usable = [w for w in words if w[2] > w[1]]
    if not usable:
        return None
    most = min(len(usable), max_words) if max_words > 0 else len(usable)
    n = int(rng.integers(1, most + 1))
    first = int(rng.integers(0, len(usable) - n + 1))
    run = usable[first : first + n]
    start = max(0, int(np.floor((run[0][1] - offset) * fps)) - margin)
    end = min(frames, int(np.ceil((run[-1][2] - offset) * fps)) + margin)
    if end <= start:
        return None
    return start, end, " ".join(str(w[0]) for w in run)


def frame_labels(words: list, frames: int, fps: float, encode, offset: float = 0.0) -> np.ndarray:
    """Per-frame targets (T,) int64 of an align head from word alignments: 0 (silence) outside words,
    and inside each word its letters' ids (``encode(word)``) spread evenly over the word's frames.

    ``words``: ``[[word, start_s, end_s], ...]`` on the source's clock, ``offset`` the clip's start.
    Frame ``t`` covers ``[t, t + 1) / fps``; it belongs to the word holding its centre.
    """
    labels = np.zeros(frames, dtype=np.int64)
    for word, start, end in words:
        ids = [i for i in encode(str(word)) if i > 0]
        first = max(0, int(np.ceil((start - offset) * fps - 0.5)))
        last = min(frames, int(np.ceil((end - offset) * fps - 0.5)))  # exclusive
        n = last - first
        if n <= 0 or not ids:
            continue
        # letter k of m takes frames [first + k n / m, first + (k + 1) n / m); a word shorter than its
        # letters keeps the letters that start a frame
        pos = first + (np.arange(n) * len(ids)) // n
        labels[first:last] = np.asarray(ids)[pos - first]
    return labels


def spec_mask(audio: np.ndarray, c: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """SpecAugment-style masks on (4T, F) features: time spans and feature bands set to 0 (a copy)."""
    audio = np.array(audio, dtype=np.float32)
    rows, dims = audio.shape
    for _ in range(c.audio_time_masks):
        n = int(rng.integers(1, max(1, c.audio_time_mask_rows) + 1))
        if n < rows:
            start = int(rng.integers(0, rows - n))
            audio[start : start + n] = 0.0
    for _ in range(c.audio_freq_masks):
        n = int(rng.integers(1, max(1, c.audio_freq_mask_bins) + 1))
        if n < dims:
            start = int(rng.integers(0, dims - n))
            audio[:, start : start + n] = 0.0
    return audio


def audio_index(video_index: np.ndarray) -> np.ndarray:
    """Expand a video frame index to audio-feature rows (4 per video frame)."""
    k = AUDIO_FRAMES_PER_VIDEO_FRAME
    return (video_index[:, None] * k + np.arange(k)[None, :]).reshape(-1)


class VideoAugment:
    """Applies an :class:`AugmentConfig`. ``train=False`` applies only the deterministic centre crop.

    ``__call__(video, rng, audio=None) -> (video, audio)``; video (T, H, W, C) uint8 in and out
    (T may change with frame drop/dup, and the audio rows follow it).
    """

    def __init__(self, config: AugmentConfig | None = None, train: bool = True):
        self.config = config or AugmentConfig()
        self.train = train

    def __call__(self, video: np.ndarray, rng: np.random.Generator, audio: np.ndarray | None = None):
        video, audio, _ = self.apply(video, rng, audio)
        return video, audio

    def apply(self, video: np.ndarray, rng: np.random.Generator, audio: np.ndarray | None = None,
              labels: np.ndarray | None = None):
        """As ``__call__``, also carrying per-frame ``labels`` (T,) through frame deletion/duplication:
        ``-> (video, audio, labels)``."""
        c = self.config
        if c.crop is not None:
            video = crop(video, tuple(c.crop), rng if self.train else None)
        if not self.train:
            return np.ascontiguousarray(video), audio, labels
        if c.max_shift > 0:
            video = shift(video, c.max_shift, rng)
        if c.flip > 0 and rng.random() < c.flip:
            video = video[:, :, ::-1]
        if c.frame_drop > 0 or c.frame_dup > 0:
            index = drop_dup_index(video.shape[0], c.frame_drop, c.frame_dup, rng)
            video = video[index]
            if labels is not None:
                labels = labels[index]
            if audio is not None:
                rows = audio_index(index)
                audio = audio[rows[rows < audio.shape[0]]]
        video = self.appearance(video, rng)
        if c.lowres > 0 and rng.random() < c.lowres:
            video = low_resolution(video, tuple(c.lowres_scale), rng)
        if c.cutout > 0 and rng.random() < c.cutout:
            video = cutout(video, c.cutout_size, rng)
        if c.time_masks > 0:
            video = time_mask(video, c.time_masks, c.time_mask_frames, rng)
        if audio is not None and (c.audio_time_masks > 0 or c.audio_freq_masks > 0):
            audio = spec_mask(audio, c, rng)
        return np.ascontiguousarray(video), audio, labels

    def appearance(self, video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The per-clip appearance changes (affine, photometric, grey, blur, JPEG), each with its probability.
        Draws nothing from ``rng`` when all are off (older recipes replay the same batches)."""
        c = self.config
        if c.affine > 0 and rng.random() < c.affine:
            video = affine_jitter(video, c, rng)
        if c.photometric > 0 and rng.random() < c.photometric:
            video = photometric(video, c, rng)
        if c.grey > 0 and rng.random() < c.grey:
            video = to_grey(video)
        if c.blur > 0 and rng.random() < c.blur:
            video = gaussian_blur(video, rng.uniform(*c.blur_sigma))
        if c.jpeg > 0 and rng.random() < c.jpeg:
            video = jpeg_compress(video, int(rng.integers(c.jpeg_quality[0], c.jpeg_quality[1] + 1)))
        return video
