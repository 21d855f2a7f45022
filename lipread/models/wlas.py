"""WLAS: Watch, Listen, Attend and Spell (Chung, Senior, Vinyals, Zisserman, CVPR 2017).

Shape legend: B batch, C channels, T video frames (25 Hz), H/W pixels, A audio feature rows (100 Hz,
4 per video frame), F audio feature dims, S target characters, V vocabulary (pad 0, symbols, <sos>, <eos>).

- *Watch*: a LipNet (3D front end + BiGRU over time, any registered LipNet variant) gives per-frame
  states (B, T, Dv). Its own CTC classifier is the video CTC branch, its align head (if any) gives word
  times. It can start from a trained LipNet (``init_from``: the checkpoint's weights go under ``watch.``)
  and be frozen (``freeze_watch``), which on a CPU saves the backward pass through the 3D convolutions.
- *Listen*: two strided 1-D convolutions take the 100 Hz features to 25 Hz, then a BiGRU: (B, T, Da).
  A CTC classifier and an align head sit on it.
- *Attend and Spell*: an LSTM decoder over characters; at each step one additive attention reads each
  stream and the two context vectors feed the output and the next step (input feeding).

One checkpoint serves three modalities. In training each clip keeps both streams, or only the video, or
only the audio (``p_video_only``/``p_audio_only``: modality dropout); a dropped stream's context vector
is zero, which is exactly what the decoder sees when a stream is absent at test time.

``forward(...)`` with targets returns the training losses (attention cross-entropy, CTC branches, align
heads); :meth:`encode` and :meth:`step` are what the decoders (:mod:`lipread.decoding.attention`) use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lipread.config import build_config, config_to_dict
from lipread.errors import ConfigError
from lipread.models.ctc import ctc_loss
from lipread.models.lipnet import LipNet, conv_out
from lipread.models.registry import create_model, register_model
from lipread.text import Tokenizer

MODALITIES = ("av", "video", "audio")


@dataclass
class WLASConfig:
    """WLAS sizes and training options (see the module docstring)."""

    vocab: str = "grid"
    watch: str = "lipnet_small"
    """Registered LipNet variant used as the Watch encoder."""
    watch_args: dict[str, Any] = field(default_factory=dict)
    """Overrides of the Watch model's builder (e.g. ``align_head: true``)."""
    freeze_watch: bool = False
    """Keep the Watch encoder fixed (eval mode, no gradients): train on top of a trained LipNet."""
    audio_dim: int = 39
    """F of the audio features (13 MFCC + deltas + delta-deltas by default)."""
    listen_channels: int = 128
    listen_size: int = 128
    """Hidden size of each direction of the Listen BiGRU."""
    listen_layers: int = 2
    embed_size: int = 64
    decoder_size: int = 256
    attention_size: int = 128
    dropout: float = 0.2
    audio_align_head: bool = True
    """A per-frame classifier on the Listen states trained on word alignments, for word times."""
    p_video_only: float = 0.2
    """Training: probability that a clip's sound is hidden from the decoder (modality dropout)."""
    p_audio_only: float = 0.2
    """Training: probability that a clip's lips are hidden from the decoder."""
    ctc_weight: float = 0.2
    """Hybrid CTC/attention: loss = (1 - w) * attention + w * mean CTC of the trained encoders (0 = none)."""
    label_smoothing: float = 0.1
    scheduled_sampling: float = 0.2
    """Probability, reached at the end of training and ramped linearly from 0, that the decoder is fed its
    own previous prediction instead of the true character (scheduled sampling, Bengio et al. 2015)."""

    def __post_init__(self):
        if self.p_video_only + self.p_audio_only > 1.0:
            raise ConfigError("p_video_only + p_audio_only must be at most 1")


def _mask(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """(B,) lengths -> (B, total) bool, True on valid positions."""
    return torch.arange(total, device=lengths.device)[None, :] < lengths[:, None]


class Listen(nn.Module):
    """100 Hz features (B, A, F) -> 25 Hz states (B, A/4, 2 * hidden): 2 x (Conv1d stride 2, BN, ReLU), BiGRU."""

    def __init__(self, in_dim: int, channels: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(in_dim, channels, 5, 2, 2, bias=False),
                                    nn.Conv1d(channels, channels, 5, 2, 2, bias=False)])
        self.norms = nn.ModuleList([nn.BatchNorm1d(channels), nn.BatchNorm1d(channels)])
        self.gru = nn.GRU(channels, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.out_dim = 2 * hidden

    @staticmethod
    def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
        return torch.tensor([conv_out(conv_out(int(n), 5, 2, 2), 5, 2, 2) for n in lengths], dtype=torch.int64)

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        x = audio.transpose(1, 2)  # (B, F, A)
        lens = lengths.to(torch.int64).cpu()
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x)))
            lens = torch.tensor([conv_out(int(n), 5, 2, 2) for n in lens], dtype=torch.int64)
            x = x * _mask(lens.to(x.device), x.shape[2])[:, None, :].to(x.dtype)  # padding stays zero
        x = x.transpose(1, 2)
        packed = pack_padded_sequence(x, lens.clamp(min=1), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, lens


class Attention(nn.Module):
    """Additive attention (Bahdanau et al. 2015): ``e = v . tanh(K enc + Q query)``, softmax over valid frames."""

    def __init__(self, enc_dim: int, query_dim: int, att_dim: int):
        super().__init__()
        self.key = nn.Linear(enc_dim, att_dim)
        self.query = nn.Linear(query_dim, att_dim, bias=False)
        self.v = nn.Linear(att_dim, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor):
        """query (N, Dq), keys (N, T, A), values (N, T, D), mask (N, T) -> (context (N, D), weights (N, T))."""
        e = self.v(torch.tanh(keys + self.query(query)[:, None, :])).squeeze(-1)
        e = e.masked_fill(~mask, float("-inf"))
        w = torch.softmax(e, dim=-1).nan_to_num(0.0)  # a clip with no valid frame attends to nothing
        return torch.bmm(w[:, None, :], values).squeeze(1), w


@dataclass
class Encoded:
    """The encoders' output for N decoder rows (B, or B * beam when a beam search repeats it).

    ``video``/``audio``: (N, T, D) states or None (stream absent); ``*_keys``: their attention keys;
    ``*_mask``: (N, T) bool valid frames; ``use_video``/``use_audio``: (N,) float 1 = the decoder reads it.
    ``lengths``: (N,) int64 encoder frames (the longer stream's).
    """

    video: torch.Tensor | None
    video_keys: torch.Tensor | None
    video_mask: torch.Tensor | None
    audio: torch.Tensor | None
    audio_keys: torch.Tensor | None
    audio_mask: torch.Tensor | None
    use_video: torch.Tensor
    use_audio: torch.Tensor
    lengths: torch.Tensor

    def index_select(self, index: torch.Tensor) -> Encoded:
        """Rows ``index`` (e.g. ``arange(B).repeat_interleave(K)`` for a beam of K)."""
        def pick(t):
            return None if t is None else t.index_select(0, index.to(t.device))
        return Encoded(pick(self.video), pick(self.video_keys), pick(self.video_mask), pick(self.audio),
                       pick(self.audio_keys), pick(self.audio_mask), pick(self.use_video), pick(self.use_audio),
                       pick(self.lengths))


class WLAS(nn.Module):
    def __init__(self, config: WLASConfig | None = None):
        super().__init__()
        self.config = cfg = config or WLASConfig()
        self.tokenizer = tok = Tokenizer.from_name(cfg.vocab)
        from lipread.models.registry import MODELS

        lipnet_builder = cfg.watch in MODELS.list() and MODELS.get(cfg.watch).__module__ == LipNet.__module__
        watch = (create_model(cfg.watch, vocab=cfg.vocab, num_classes=tok.ctc_size, **cfg.watch_args)
                 if lipnet_builder else None)
        if not isinstance(watch, LipNet):
            raise ConfigError(f"the Watch encoder must be a LipNet variant, not {cfg.watch!r}",
                              fix="Use lipnet, lipnet_small or lipnet_tiny.")
        self.watch = watch
        dv = 2 * watch.config.rnn_size
        self.listen = Listen(cfg.audio_dim, cfg.listen_channels, cfg.listen_size, cfg.listen_layers, cfg.dropout)
        da = self.listen.out_dim
        self.audio_ctc = nn.Linear(da, tok.ctc_size)
        self.audio_align = nn.Linear(da, tok.ctc_size) if cfg.audio_align_head else None
        d = cfg.decoder_size
        self.embed = nn.Embedding(tok.size, cfg.embed_size)
        self.cell = nn.LSTMCell(cfg.embed_size + dv + da, d)
        self.att_video = Attention(dv, d, cfg.attention_size)
        self.att_audio = Attention(da, d, cfg.attention_size)
        self.proj = nn.Linear(d + dv + da, d)
        self.out = nn.Linear(d, tok.size)
        self.drop = nn.Dropout(cfg.dropout)
        self.dims = (dv, da)
        if cfg.freeze_watch:
            for p in self.watch.parameters():
                p.requires_grad_(False)

    objective = "attention"
    """The trainer calls ``forward`` for the losses and validates with attention decoding."""

    # weights of a trained LipNet fit the Watch encoder (lipread.models.checkpoint.init_from)
    init_prefixes = ("", "watch.")

    @property
    def has_align_head(self) -> bool:
        return self.audio_align is not None or self.watch.has_align_head

    @property
    def has_listen(self) -> bool:
        return True

    def train(self, mode: bool = True):
        super().train(mode)
        if self.config.freeze_watch:
            self.watch.eval()  # fixed BN statistics and no dropout in a frozen encoder
        return self

    # -- encoders ----------------------------------------------------------------------------------
    def encode_video(self, video: torch.Tensor, lengths: torch.Tensor, flip_average: bool = False,
                     passes: list | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, T, H, W) -> states (B, T', Dv), lengths (B,). ``flip_average``: the mean of the states of
        the clips and of their mirror images (test-time augmentation; the recipes train with random flips).
        ``passes``: a list that receives the states of each pass (one, or the clip's and the mirror's)."""
        if flip_average and len(video) == 1 and not torch.is_grad_enabled():
            # one clip: it and its mirror image in one call (faster on a CPU; a batch of 4 is not)
            both, lens = self.encode_video(torch.cat([video, video.flip(-1)]), torch.cat([lengths, lengths]))
            a, b, lens = both[:1], both[1:], lens[:1]
            if passes is not None:
                passes += [a, b]
            return (a + b) / 2, lens
        if flip_average:
            a, lens = self.encode_video(video, lengths)
            b, _ = self.encode_video(video.flip(-1), lengths)
            if passes is not None:
                passes += [a, b]
            return (a + b) / 2, lens
        grad = torch.is_grad_enabled() and not self.config.freeze_watch
        with torch.set_grad_enabled(grad):
            feats = self.watch.forward_features(video, lengths)
            lens = self.watch.output_lengths(lengths).clamp(max=feats.shape[1])
            states = self.watch.head.encode(feats, lens)
        if passes is not None:
            passes.append(states)
        return states, lens

    def encode(self, video: torch.Tensor | None = None, video_lengths: torch.Tensor | None = None,
               audio: torch.Tensor | None = None, audio_lengths: torch.Tensor | None = None,
               modality: str = "av", use_video: torch.Tensor | None = None,
               use_audio: torch.Tensor | None = None, flip_average: bool = False) -> tuple[Encoded, dict[str, Any]]:
        """Run the encoders a modality needs -> (:class:`Encoded`, extras with the raw states and lengths).
        ``flip_average``: see :meth:`encode_video`."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, not {modality!r}")
        want_v, want_a = modality in ("av", "video"), modality in ("av", "audio")
        if want_v and video is None:
            raise ValueError(f"modality {modality!r} needs video")
        if want_a and audio is None:
            raise ValueError(f"modality {modality!r} needs audio features")
        ref = video if video is not None else audio
        b, device = ref.shape[0], ref.device
        extras: dict[str, Any] = {}
        v = vk = vm = a = ak = am = None
        lens = torch.zeros(b, dtype=torch.int64)
        if want_v:
            if video_lengths is None:
                video_lengths = torch.full((b,), video.shape[2], dtype=torch.int64)
            passes: list = []
            v, vl = self.encode_video(video, video_lengths, flip_average, passes)
            vk, vm = self.att_video.key(v), _mask(vl.to(device), v.shape[1])
            extras.update(video_states=v, video_lengths=vl, video_passes=passes)
            lens = torch.maximum(lens, vl)
        if want_a:
            if audio.shape[-1] != self.config.audio_dim:
                raise ValueError(f"the model reads {self.config.audio_dim} audio features a row, got {audio.shape[-1]}")
            if audio_lengths is None:
                audio_lengths = torch.full((b,), audio.shape[1], dtype=torch.int64)
            a, al = self.listen(audio, audio_lengths)
            ak, am = self.att_audio.key(a), _mask(al.to(device), a.shape[1])
            extras.update(audio_states=a, audio_lengths=al)
            lens = torch.maximum(lens, al)
        ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)
        uv = (use_video if use_video is not None else ones) if want_v else zeros
        ua = (use_audio if use_audio is not None else ones) if want_a else zeros
        return Encoded(v, vk, vm, a, ak, am, uv, ua, lens), extras

    # -- decoder -----------------------------------------------------------------------------------
    def init_state(self, enc: Encoded) -> tuple[torch.Tensor, ...]:
        n = enc.use_video.shape[0]
        dv, da = self.dims
        z = enc.use_video.new_zeros
        return (z(n, self.config.decoder_size), z(n, self.config.decoder_size), z(n, dv), z(n, da))

    def step(self, enc: Encoded, prev: torch.Tensor, state: tuple[torch.Tensor, ...]):
        """One decoder step: previous tokens (N,) -> (logits (N, V), new state, (video weights, audio weights))."""
        h, c, ctx_v, ctx_a = state
        x = torch.cat([self.embed(prev), ctx_v, ctx_a], dim=-1)
        h, c = self.cell(self.drop(x), (h, c))
        wv = wa = None
        if enc.video is not None:
            ctx_v, wv = self.att_video(h, enc.video_keys, enc.video, enc.video_mask)
            ctx_v = ctx_v * enc.use_video[:, None]
        if enc.audio is not None:
            ctx_a, wa = self.att_audio(h, enc.audio_keys, enc.audio, enc.audio_mask)
            ctx_a = ctx_a * enc.use_audio[:, None]
        o = torch.tanh(self.proj(torch.cat([h, ctx_v, ctx_a], dim=-1)))
        return self.out(self.drop(o)), (h, c, ctx_v, ctx_a), (wv, wa)

    # -- training ----------------------------------------------------------------------------------
    def _modality_flags(self, b: int, device, has_audio: bool) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.training or not has_audio:
            return torch.ones(b, device=device), torch.ones(b, device=device)
        r = torch.rand(b)
        video_only = r < self.config.p_video_only
        audio_only = (r >= self.config.p_video_only) & (r < self.config.p_video_only + self.config.p_audio_only)
        return (~audio_only).float().to(device), (~video_only).float().to(device)

    def forward(self, video: torch.Tensor, video_lengths: torch.Tensor, audio: torch.Tensor | None,
                audio_lengths: torch.Tensor | None, targets: torch.Tensor, target_lengths: torch.Tensor,
                frame_labels: torch.Tensor | None = None, align_weight: float = 0.0,
                progress: float = 0.0) -> dict[str, torch.Tensor]:
        """Training losses for a batch (targets (B, S) ids padded with 0) -> {"loss": scalar, parts...}."""
        cfg, tok = self.config, self.tokenizer
        b, device = video.shape[0], video.device
        has_audio = audio is not None
        uv, ua = self._modality_flags(b, device, has_audio)
        enc, extras = self.encode(video, video_lengths, audio, audio_lengths, "av" if has_audio else "video",
                                  use_video=uv, use_audio=ua)
        # decoder input <sos> y1..yS, output y1..yS <eos>; padding (0) is ignored
        s = targets.shape[1]
        dec_in = torch.cat([torch.full((b, 1), tok.sos_id, dtype=torch.int64, device=device), targets], dim=1)
        gold = torch.cat([targets, torch.zeros((b, 1), dtype=torch.int64, device=device)], dim=1)
        gold[torch.arange(b, device=device), target_lengths.to(device)] = tok.eos_id
        state = self.init_state(enc)
        p_sample = cfg.scheduled_sampling * min(1.0, max(0.0, progress)) if self.training else 0.0
        logits, prev_pred = [], None
        for t in range(s + 1):
            inp = dec_in[:, t]
            if p_sample > 0 and prev_pred is not None:
                inp = torch.where(torch.rand(b, device=device) < p_sample, prev_pred, inp)
            out, state, _ = self.step(enc, inp, state)
            logits.append(out)
            prev_pred = out.detach().argmax(-1)
        logits = torch.stack(logits, dim=1)  # (B, S + 1, V)
        att = F.cross_entropy(logits.float().transpose(1, 2), gold, ignore_index=0,
                              label_smoothing=cfg.label_smoothing)
        parts = {"att": att}
        ctc_terms = []
        if cfg.ctc_weight > 0:
            if not cfg.freeze_watch:
                lp = self.watch.head.fc(extras["video_states"]).float().log_softmax(-1)
                parts["ctc_video"] = ctc_loss(lp, extras["video_lengths"], targets, target_lengths)
                ctc_terms.append(parts["ctc_video"])
            if has_audio:
                lp = self.audio_ctc(self.drop(extras["audio_states"])).float().log_softmax(-1)
                parts["ctc_audio"] = ctc_loss(lp, extras["audio_lengths"], targets, target_lengths)
                ctc_terms.append(parts["ctc_audio"])
        loss = att if not ctc_terms else (1 - cfg.ctc_weight) * att + cfg.ctc_weight * sum(ctc_terms) / len(ctc_terms)
        if align_weight > 0 and frame_labels is not None:
            terms = []
            if has_audio and self.audio_align is not None:
                terms.append(self.audio_align(extras["audio_states"]))
            if self.watch.has_align_head and not cfg.freeze_watch:
                terms.append(self.watch.head.align_fc(extras["video_states"]))
            for logit in terms:
                n = min(logit.shape[1], frame_labels.shape[1])
                al = F.nll_loss(logit[:, :n].float().log_softmax(-1).transpose(1, 2), frame_labels[:, :n],
                                ignore_index=-100)
                parts["align"] = parts.get("align", 0.0) + al
                loss = loss + align_weight * al
        parts["loss"] = loss
        return parts

    # -- per-frame heads for word times and confidence --------------------------------------------
    def lip_reading(self, extras: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The Watch's own CTC reading of the lips from the states :meth:`encode` computed: log-probs
        (B, T', V_ctc) float32 on the CPU and lengths, as ``run_model(model.watch, video, lengths,
        flip_average)`` gives them (with flip averaging, the mean of the two passes' posteriors), so the
        reading-direction check need not run the Watch again."""
        import math

        fc = self.watch.head.fc
        reads = [fc(states).float().log_softmax(-1) for states in extras["video_passes"]]
        lp = reads[0] if len(reads) == 1 else torch.logaddexp(reads[0], reads[1]) - math.log(2)
        return lp.cpu(), extras["video_lengths"].cpu()

    def frame_log_probs(self, extras: dict[str, Any], modality: str, align: bool = False):
        """CTC (or, with ``align``, align-head) log-probs (B, T, V_ctc) and lengths of the stream that times
        the words: the sound when the modality has it, else the lips. None when that head does not exist."""
        if modality in ("av", "audio"):
            head = self.audio_align if align else self.audio_ctc
            states, lens = extras["audio_states"], extras["audio_lengths"]
        else:
            head = self.watch.head.align_fc if align else self.watch.head.fc
            states, lens = extras["video_states"], extras["video_lengths"]
        if head is None:
            return None
        return head(states).float().log_softmax(-1), lens


def _build(base: WLASConfig, overrides: dict) -> WLAS:
    data = config_to_dict(base)
    data.update(overrides)
    data.pop("num_classes", None)  # the trainer passes the CTC size; WLAS derives its sizes from the vocabulary
    cfg = build_config(WLASConfig, data)
    model = WLAS(cfg)
    size = model.watch.config.input_size
    model.input_spec = (f"video (B, {model.watch.config.in_chans}, 75, {size[0]}, {size[1]}) + "
                        f"audio (B, 300, {cfg.audio_dim})")
    return model


@register_model
def wlas(**overrides) -> WLAS:
    """WLAS: Watch (lipnet_small RGB, BiGRU 256, align head: the zoo LipNet's shape) + Listen (2 strided convs,
    2 x BiGRU 128) + a dual-attention LSTM 256 speller; 39 audio features (13 MFCC + deltas)."""
    return _build(WLASConfig(watch_args={"gray": False, "rnn_size": 256, "align_head": True}), overrides)


@register_model
def wlas_tiny(**overrides) -> WLAS:
    """A test-sized WLAS: lipnet_tiny Watch, Listen 1 x BiGRU 32, speller 64."""
    base = WLASConfig(watch="lipnet_tiny", watch_args={"align_head": True}, audio_dim=39, listen_channels=32,
                      listen_size=32, listen_layers=1, embed_size=16, decoder_size=64, attention_size=32,
                      dropout=0.0, p_video_only=0.0, p_audio_only=0.0, scheduled_sampling=0.0,
                      label_smoothing=0.0)
    return _build(base, overrides)


__all__ = ["MODALITIES", "WLAS", "WLASConfig", "Encoded", "wlas", "wlas_tiny"]
