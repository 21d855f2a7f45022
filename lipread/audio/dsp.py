"""librosa's spectral features in plain NumPy: power STFT, mel filterbank, dB, MFCC, deltas and YIN pitch.

Why: librosa compiles parts of itself with numba on first use, and importing it (with scipy.signal) costs
seconds; a new process reading one clip spent ~2.7 s there before its first MFCC (issue 27). These
functions give the numbers librosa 0.11 gives for the calls the package makes (the tests compare them, on
GRID speech and on synthetic signals), importing only NumPy (and scipy.fft for YIN). They follow librosa's conventions and dtypes:

- **power STFT** (``librosa.stft(center=True)`` then ``abs() ** 2``): the signal is zero-padded by
  ``n_fft // 2`` on each side (librosa >= 0.10's default ``pad_mode="constant"``), framed every ``hop``
  samples, multiplied by a periodic Hann window of ``win_length`` zero-padded to ``n_fft`` in the middle,
  and transformed in float64; the spectrum is rounded to complex64 (librosa's dtype for float32 audio)
  before its magnitude is squared in float32. ``1 + S // hop`` frames.
- **mel filterbank** (``librosa.filters.mel``, ``htk=False, norm="slaney"``): triangles on the Slaney mel
  scale (linear below 1 kHz, logarithmic above) between 0 Hz and Nyquist, each scaled by 2 / its width in
  Hz, float32. Cached per (rate, n_fft, n_mels).
- **dB** (``librosa.power_to_db(ref=1.0, top_db=None)``): ``10 log10(max(1e-10, S))``.
- **MFCC** (``librosa.feature.mfcc(S=..., dct_type=2, norm="ortho", lifter=0)``): an orthonormal DCT-II
  over the mel axis, as a matrix product in float64 rounded to float32. librosa takes it in float32 with
  scipy.fft, a couple of float32 spacings off: the two differ by up to 1.2e-4 on c0 (in the hundreds:
  -632 for silence, where float32 steps are 6.1e-5), and by less than 1e-4 elsewhere.
- **deltas** (``librosa.feature.delta(width, order, mode="interp")``, i.e. scipy's Savitzky-Golay filter
  with ``polyorder = deriv = order``): inside, the least-squares derivative filter; on the first and last
  ``width // 2`` frames, the derivative of the polynomial fitted to the first (last) ``width`` frames,
  all in float64. scipy >= 1.15 fits those edge polynomials in float32 for float32 input, so there the
  two differ by up to ~1.4e-6 of the coefficient's magnitude (width 3, second order; ~3e-7 at width 9):
  2e-4 on the c0 of silence, whose true deltas are 0.
- **YIN** (``librosa.yin(center=True)``): the cumulative mean normalized difference of each zero-padded
  frame, the first trough under the threshold (else the lowest point), refined by a parabola. The frames'
  autocorrelation is taken with scipy.fft in float32, as librosa does, and the rest follows librosa's
  float32/float64 steps (including its running energy that leaves out the frame's first sample): with a
  float64 FFT a few frames in a thousand pick another trough, enough to move a clip's median pitch by up to
  2%. This is the one function here that imports scipy (scipy.fft, ~0.15 s, once); the tests find it
  bit-equal to librosa's on GRID speech.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

AMIN = 1e-10
"""The floor of the power before its log (librosa's ``amin``)."""


def hann_window(win_length: int) -> np.ndarray:
    """The periodic (DFT-even) Hann window of ``win_length`` points, float64."""
    n = np.arange(win_length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)


def _frames(y: np.ndarray, length: int, hop: int) -> np.ndarray:
    """(n, length) view of ``y`` framed every ``hop`` samples (``n = 1 + (len(y) - length) // hop``)."""
    view = np.lib.stride_tricks.sliding_window_view(y, length)
    return view[::hop]


def power_stft(audio: np.ndarray, n_fft: int, hop: int, win_length: int) -> np.ndarray:
    """|STFT|^2 ``(1 + n_fft // 2, 1 + S // hop)`` float32 of ``audio`` (S,), centred frames, zero padding."""
    if win_length > n_fft:
        raise ValueError(f"win_length {win_length} is longer than n_fft {n_fft}")
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio (S,), got shape {y.shape}")
    window = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    window[left:left + win_length] = hann_window(win_length)
    padded = np.pad(y, n_fft // 2)
    frames = _frames(padded, n_fft, hop)  # (n, n_fft) float32
    spec = np.fft.rfft(frames * window, axis=1).astype(np.complex64)  # float64 transform, complex64 like librosa
    return np.ascontiguousarray((np.abs(spec) ** 2).T)


_HZ_PER_MEL = 200.0 / 3
"""Slaney's mel scale below 1 kHz: 3 mels per 200 Hz."""
_LOG_MEL = 1000.0 / _HZ_PER_MEL
"""The mel of 1 kHz, where the scale turns logarithmic."""
_LOG_STEP = math.log(6.4) / 27.0
"""Above 1 kHz: 27 mels per factor 6.4 in frequency."""


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (librosa's ``htk=False``): linear to 15 mels at 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    above = hz >= 1000.0
    log = _LOG_MEL + np.log(np.where(above, hz, 1000.0) / 1000.0) / _LOG_STEP
    return np.where(above, log, hz / _HZ_PER_MEL)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    above = mel >= _LOG_MEL
    log = 1000.0 * np.exp(_LOG_STEP * (np.where(above, mel, _LOG_MEL) - _LOG_MEL))
    return np.where(above, log, _HZ_PER_MEL * mel)


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-normalized triangular filters ``(n_mels, 1 + n_fft // 2)`` float32 from 0 Hz to Nyquist
    (read-only: it is cached)."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)  # each FFT bin's frequency
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lo) / (mid - lo)
    falling = (hi - bins[None, :]) / (hi - mid)
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights = (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)
    weights.setflags(write=False)
    return weights


def melspectrogram(audio: np.ndarray, sample_rate: int, n_fft: int, hop: int, win_length: int,
                   n_mels: int) -> np.ndarray:
    """Mel power spectrogram ``(n_mels, 1 + S // hop)`` float32."""
    return mel_filterbank(sample_rate, n_fft, n_mels) @ power_stft(audio, n_fft, hop, win_length)


def power_to_db(power: np.ndarray) -> np.ndarray:
    """``10 log10(max(1e-10, power))`` in the power's dtype (dB relative to 1.0, no top_db clipping)."""
    power = np.asarray(power)
    return 10.0 * np.log10(np.maximum(power.dtype.type(AMIN), power))


@lru_cache(maxsize=16)
def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The first ``n_out`` rows of the orthonormal DCT-II of size ``n_in``, float64 (read-only)."""
    if not 0 < n_out <= n_in:
        raise ValueError(f"need 0 < n_out <= n_in, got n_out={n_out}, n_in={n_in}")
    k = np.arange(n_out, dtype=np.float64)[:, None]
    n = np.arange(n_in, dtype=np.float64)[None, :]
    basis = np.cos(np.pi * k * (2.0 * n + 1.0) / (2.0 * n_in)) * math.sqrt(2.0 / n_in)
    basis[0] *= math.sqrt(0.5)
    basis.setflags(write=False)
    return basis


def mfcc(logmel: np.ndarray, n_mfcc: int) -> np.ndarray:
    """The first ``n_mfcc`` orthonormal DCT-II coefficients of ``logmel`` ``(n_mels, T)`` over its mel axis,
    ``(n_mfcc, T)`` in ``logmel``'s float dtype."""
    logmel = np.asarray(logmel)
    out = dct_matrix(logmel.shape[0], n_mfcc) @ logmel.astype(np.float64)
    return out.astype(logmel.dtype if logmel.dtype.kind == "f" else np.float64)


@lru_cache(maxsize=32)
def _savgol_operators(width: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The Savitzky-Golay derivative (polynomial degree = derivative = ``order``) as two operators:
    the centred filter ``(width,)`` (``out[t] = filter @ x[t - h : t + h + 1]``) and the first edge's
    ``(h, width)`` (``out[:h] = edge @ x[:width]``: the fitted polynomial's derivative at 0..h-1)."""
    half = width // 2
    positions = np.arange(width, dtype=np.float64)
    powers = np.arange(order + 1)
    fit = np.linalg.pinv(positions[:, None] ** powers[None, :])  # polynomial coefficients from the window
    # the order-th derivative of sum_j c_j x^j is sum_{j >= order} c_j j! / (j - order)! x^(j - order)
    scale = np.array([math.factorial(j) // math.factorial(j - order) if j >= order else 0 for j in powers],
                     dtype=np.float64)
    exponents = np.maximum(powers - order, 0).astype(np.float64)
    at = np.append(positions[:half], float(half))  # the edge's points, then the centre
    ops = (scale[None, :] * at[:, None] ** exponents[None, :]) @ fit  # (half + 1, width)
    centre, edge = ops[half].copy(), ops[:half].copy()
    centre.setflags(write=False)
    edge.setflags(write=False)
    return centre, edge


def savgol_delta(data: np.ndarray, width: int, order: int) -> np.ndarray:
    """``librosa.feature.delta(data, width=width, order=order)`` along the last axis (mode "interp"),
    in ``data``'s float dtype."""
    if width < 3 or width % 2 != 1:
        raise ValueError(f"width must be an odd integer >= 3, got {width}")
    if order < 1:
        raise ValueError(f"order must be a positive integer, got {order}")
    data = np.asarray(data)
    n = data.shape[-1]
    if width > n:
        raise ValueError(f"width {width} is longer than the {n} frames")
    half = width // 2
    centre, edge = _savgol_operators(width, order)
    x = data.astype(np.float64)
    out = np.empty_like(x)
    if n > 2 * half:
        out[..., half:n - half] = _frames_last(x, width) @ centre
    out[..., :half] = x[..., :width] @ edge.T
    # the last edge is the first one mirrored: reversed time flips the sign of odd derivatives
    sign = -1.0 if order % 2 else 1.0
    out[..., n - half:] = sign * (x[..., ::-1][..., :width] @ edge.T)[..., ::-1]
    return out.astype(data.dtype if data.dtype.kind == "f" else np.float64)


def _frames_last(x: np.ndarray, width: int) -> np.ndarray:
    """(..., n - width + 1, width) windows of the last axis."""
    return np.lib.stride_tricks.sliding_window_view(x, width, axis=-1)


def yin(wave: np.ndarray, fmin: float, fmax: float, sample_rate: int, frame_length: int, hop_length: int,
        trough_threshold: float = 0.1) -> np.ndarray:
    """f0 in Hz per centred frame ``(1 + S // hop_length,)`` float64: ``librosa.yin`` with its defaults
    (``center=True``, zero padding)."""
    y = np.asarray(wave, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio (S,), got shape {y.shape}")
    min_period = int(np.floor(sample_rate / fmax))
    max_period = min(int(np.ceil(sample_rate / fmin)), frame_length - 1)
    if not 0 < min_period < max_period:
        raise ValueError(f"no periods between fmax={fmax} and fmin={fmin} at {sample_rate} Hz "
                         f"with frame_length={frame_length}")
    # librosa's FFT (scipy.fft, in float32 for float32 frames): with NumPy's float64 one the difference
    # function differs by float32 rounding and some frames pick another trough (13 of 90,600 frames of
    # GRID speech, clean, noisy and quiet), which can move a clip's median pitch. scipy.fft costs ~0.15 s.
    import scipy.fft

    frames = _frames(np.pad(y, frame_length // 2), frame_length, hop_length).T  # (frame_length, n) float32
    n_pad = scipy.fft.next_fast_len(2 * frame_length - 1, real=True)
    spec = scipy.fft.rfft(frames, n=n_pad, axis=0)  # complex64
    acf = scipy.fft.irfft(spec.real * spec.real + spec.imag * spec.imag, n=n_pad, axis=0)[: max_period + 1]
    # difference function d(k) = 2 (acf(0) - acf(k)) - sum_{0 < m < k} y(m)^2, in float32 like librosa,
    # which zeroes the first term of the running energy before subtracting it (so m = 0 is left out)
    energy = np.cumsum(np.square(frames[:max_period]), axis=0, dtype=np.float32)
    energy[0] = 0
    diff = np.empty((max_period + 1, frames.shape[1]), dtype=np.float32)
    diff[0] = 0
    diff[1:] = 2 * (acf[0:1] - acf[1:]) - energy
    lags = np.arange(1, max_period + 1)[:, None]
    mean = np.cumsum(diff[1:], axis=0, dtype=np.float32) / lags
    cmnd = diff[min_period:] / (mean[min_period - 1:] + np.finfo(np.float64).tiny)  # (periods, n) float64
    # parabolic refinement of each point: the vertex's offset, 0 where it falls a bin or more away
    shifts = np.zeros_like(cmnd)
    a = cmnd[2:] + cmnd[:-2] - 2 * cmnd[1:-1]
    b = (cmnd[2:] - cmnd[:-2]) / 2
    inside = np.abs(b) < np.abs(a)
    shifts[1:-1] = np.where(inside, -b / np.where(inside, a, 1.0), 0.0)
    trough = np.zeros(cmnd.shape, dtype=bool)
    trough[1:-1] = (cmnd[1:-1] < cmnd[:-2]) & (cmnd[1:-1] <= cmnd[2:])
    trough[-1] = cmnd[-1] < cmnd[-2]
    trough[0] = cmnd[0] < cmnd[1]
    below = trough & (cmnd < trough_threshold)
    period = np.where(below.any(axis=0), np.argmax(below, axis=0), np.argmin(cmnd, axis=0))
    refined = min_period + period + shifts[period, np.arange(cmnd.shape[1])]
    return sample_rate / refined


__all__ = ["dct_matrix", "hann_window", "hz_to_mel", "mel_filterbank", "mel_to_hz", "melspectrogram", "mfcc",
           "power_stft", "power_to_db", "savgol_delta", "yin"]
