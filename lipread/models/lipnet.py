"""LipNet (Assael et al. 2016): spatiotemporal convolutions, a bidirectional GRU stack and a CTC head.

Shape legend: B batch, C channels, T frames, H/W height/width, V vocabulary + CTC blank.

``LipNet.forward(x (B, C, T, H, W) float in [0, 1], lengths (B,))``
``-> (log_probs (B, T', V) float32 log-softmax, out_lengths (B,) int64)``; with the default
temporal kernels/strides/pools T' = T, and in general each clip's T' follows from its own T.

Every size comes from :class:`LipNetConfig`; the GRU input size (C' * H' * W') is derived from
the input size and the conv/pool settings, never written as a literal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lipread.config import build_config, config_to_dict
from lipread.errors import ConfigError
from lipread.models.registry import create_model, register_model
from lipread.text import Tokenizer

Triple = tuple[int, int, int]


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution or pooling along one axis (floor mode)."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass
class LipNetConfig:
    """LipNet sizes. Defaults are the paper's: RGB 50x100 mouths, 32/64/96 channels, 2 x BiGRU 256."""

    vocab: str = "grid"
    """Vocabulary name (``Tokenizer.from_name``); the output size is its ``ctc_size`` (28 for GRID)."""
    in_chans: int = 3
    """3 for RGB, 1 for grayscale mouths."""
    input_size: tuple[int, int] = (50, 100)
    """(H, W) of the mouth crops."""
    channels: tuple[int, ...] = (32, 64, 96)
    kernels: tuple[Triple, ...] = ((3, 5, 5), (3, 5, 5), (3, 3, 3))
    strides: tuple[Triple, ...] = ((1, 2, 2), (1, 1, 1), (1, 1, 1))
    paddings: tuple[Triple, ...] = ((1, 2, 2), (1, 2, 2), (1, 1, 1))
    pool: Triple = (1, 2, 2)
    """Max-pool kernel = stride after each conv block."""
    dropout: float = 0.5
    """Channel-wise (spatial) dropout after each conv block."""
    batch_norm: bool = False
    """BatchNorm3d between each conv and its ReLU (not in the paper; helps small-data training)."""
    rnn_size: int = 256
    rnn_layers: int = 2
    rnn_dropout: float = 0.0
    """Dropout between GRU layers and before the classifier."""
    num_classes: int | None = None
    """Output size; ``None`` = the vocabulary's ``ctc_size``."""
    align_head: bool = False
    """A second per-frame classifier on the GRU output (same classes; 0 = silence), trained with
    frame-level targets from word alignments. It is not peaky like CTC, so forced alignment on it
    gives word times that follow the speech (see :mod:`lipread.decoding.align`)."""

    def __post_init__(self):
        n = len(self.channels)
        if not (len(self.kernels) == len(self.strides) == len(self.paddings) == n) or n == 0:
            raise ConfigError(
                "LipNet channels, kernels, strides and paddings must have the same (non-zero) length",
                fix=f"got {n} channels, {len(self.kernels)} kernels, {len(self.strides)} strides, "
                f"{len(self.paddings)} paddings",
            )
        self.input_size = tuple(int(v) for v in self.input_size)  # type: ignore[assignment]
        self.channels = tuple(int(v) for v in self.channels)
        self.kernels = tuple(tuple(int(v) for v in k) for k in self.kernels)  # type: ignore[assignment]
        self.strides = tuple(tuple(int(v) for v in k) for k in self.strides)  # type: ignore[assignment]
        self.paddings = tuple(tuple(int(v) for v in k) for k in self.paddings)  # type: ignore[assignment]
        self.pool = tuple(int(v) for v in self.pool)  # type: ignore[assignment]
        h, w = self.feature_size
        if h < 1 or w < 1:
            raise ConfigError(f"LipNet input {self.input_size} is too small for its conv/pool stack")

    @property
    def output_size(self) -> int:
        return self.num_classes or Tokenizer.from_name(self.vocab).ctc_size

    def frames_out(self, frames: int) -> int:
        """T' for an input of T frames (conv and pool along time)."""
        for k, s, p in zip(self.kernels, self.strides, self.paddings):
            frames = conv_out(conv_out(frames, k[0], s[0], p[0]), self.pool[0], self.pool[0])
        return frames

    @property
    def feature_size(self) -> tuple[int, int]:
        """(H', W') after the conv/pool stack."""
        h, w = self.input_size
        for k, s, p in zip(self.kernels, self.strides, self.paddings):
            h = conv_out(conv_out(h, k[1], s[1], p[1]), self.pool[1], self.pool[1])
            w = conv_out(conv_out(w, k[2], s[2], p[2]), self.pool[2], self.pool[2])
        return h, w

    @property
    def rnn_input_size(self) -> int:
        """C' * H' * W': the flattened per-frame feature size fed to the GRU."""
        h, w = self.feature_size
        return self.channels[-1] * h * w


class BiGRUHead(nn.Module):
    """Bidirectional GRU stack + linear CTC classifier over per-frame features.

    ``forward(feats (B, T, D), lengths (B,)) -> log_probs (B, T, V)``. Sequences are packed so the
    backward direction never reads padding frames.
    """

    def __init__(self, input_size: int, hidden: int, layers: int, num_classes: int, dropout: float = 0.0,
                 align_head: bool = False):
        super().__init__()
        self.gru = nn.GRU(
            input_size, hidden, num_layers=layers, batch_first=True, bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, num_classes)
        self.align_fc = nn.Linear(2 * hidden, num_classes) if align_head else None

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The BiGRU states (B, T, 2 * hidden) over (B, T, D) features; padding frames give zeros."""
        total = feats.shape[1]
        packed = pack_padded_sequence(feats, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=total)
        return out

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor, return_align: bool = False):
        """-> log_probs (B, T, V); with ``return_align`` also the align head's (B, T, V) log-probs."""
        out = self.dropout(self.encode(feats, lengths))
        log_probs = self.fc(out).float().log_softmax(-1)
        if not return_align:
            return log_probs
        if self.align_fc is None:
            raise ValueError("this model has no align head (model.args.align_head: true)")
        return log_probs, self.align_fc(out).float().log_softmax(-1)


class LipNet(nn.Module):
    """LipNet: 3 x (Conv3d, [BN], ReLU, Dropout3d, MaxPool3d) -> BiGRU x N -> Linear -> log-softmax."""

    def __init__(self, config: LipNetConfig | None = None):
        super().__init__()
        self.config = cfg = config or LipNetConfig()
        blocks: list[nn.Module] = []
        cin = cfg.in_chans
        for cout, k, s, p in zip(cfg.channels, cfg.kernels, cfg.strides, cfg.paddings):
            layers: list[nn.Module] = [nn.Conv3d(cin, cout, k, s, p, bias=not cfg.batch_norm)]
            if cfg.batch_norm:
                layers.append(nn.BatchNorm3d(cout))
            layers += [nn.ReLU(inplace=True), nn.Dropout3d(cfg.dropout), nn.MaxPool3d(cfg.pool, cfg.pool)]
            blocks.append(nn.Sequential(*layers))
            cin = cout
        self.frontend = nn.Sequential(*blocks)
        self.head = BiGRUHead(cfg.rnn_input_size, cfg.rnn_size, cfg.rnn_layers, cfg.output_size, cfg.rnn_dropout,
                              align_head=cfg.align_head)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.head.fc.weight)
        nn.init.zeros_(self.head.fc.bias)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Per-clip output lengths T' (B,) int64 from input lengths T (B,)."""
        return torch.tensor([self.config.frames_out(int(n)) for n in lengths], dtype=torch.int64)

    def forward_features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T, H, W) -> per-frame features (B, T', C' * H' * W').

        With ``lengths``, frames past each clip's length are zeroed after every block, so a clip's
        features are the same whether or not it was padded in a batch (eval mode).
        """
        f = x
        if not self.training and self.frontend[0][0].weight.is_contiguous(memory_format=torch.channels_last_3d):
            f = x.contiguous(memory_format=torch.channels_last_3d)  # see lipread.models.lipnet.channels_last
        cfg = self.config
        lens = None if lengths is None else [int(n) for n in lengths]
        for block, k, s, p in zip(self.frontend, cfg.kernels, cfg.strides, cfg.paddings):
            f = block(f)
            if lens is not None:
                lens = [conv_out(conv_out(n, k[0], s[0], p[0]), cfg.pool[0], cfg.pool[0]) for n in lens]
                if min(lens) < f.shape[2]:
                    keep = torch.arange(f.shape[2], device=f.device)[None, :] < torch.tensor(lens, device=f.device)[:, None]
                    f = f * keep[:, None, :, None, None].to(f.dtype)
        b, c, t, h, w = f.shape
        return f.permute(0, 2, 1, 3, 4).reshape(b, t, c * h * w)

    @property
    def has_align_head(self) -> bool:
        return self.head.align_fc is not None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, return_align: bool = False):
        """(B, C, T, H, W) in [0, 1], lengths (B,) -> (log_probs (B, T', V), out_lengths (B,) int64).

        With ``return_align`` (models built with ``align_head=True``):
        ``(log_probs, out_lengths, align_log_probs (B, T', V))``.
        """
        if x.dim() != 5 or x.shape[1] != self.config.in_chans:
            raise ValueError(f"LipNet expects (B, {self.config.in_chans}, T, H, W) input, got {tuple(x.shape)}")
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[2], dtype=torch.int64)
        feats = self.forward_features(x, lengths)
        out_lengths = self.output_lengths(lengths).clamp(max=feats.shape[1])
        if return_align:
            log_probs, align = self.head(feats, out_lengths, return_align=True)
            return log_probs, out_lengths.to(x.device), align
        return self.head(feats, out_lengths), out_lengths.to(x.device)


def _build(base: LipNetConfig, gray: bool | None, overrides: dict) -> LipNet:
    data = config_to_dict(base)
    data.update(overrides)
    if gray is not None:
        data["in_chans"] = 1 if gray else 3
    cfg = build_config(LipNetConfig, data)
    model = LipNet(cfg)
    model.input_spec = f"(B, {cfg.in_chans}, 75, {cfg.input_size[0]}, {cfg.input_size[1]})"
    return model


@register_model
def lipnet(gray: bool | None = None, **overrides) -> LipNet:
    """The paper's LipNet: RGB 50x100, 32/64/96 channels, 2 x BiGRU 256, 28 outputs (~4.57 M params)."""
    return _build(LipNetConfig(), gray, overrides)


SMALL = LipNetConfig(in_chans=1, channels=(16, 32, 48), rnn_size=160, batch_norm=True, dropout=0.3, rnn_dropout=0.3)


@register_model
def lipnet_small(gray: bool | None = None, **overrides) -> LipNet:
    """A LipNet sized to train on a 2-core CPU: gray 50x100, 16/32/48 channels + BN, 2 x BiGRU 160."""
    return _build(SMALL, gray, overrides)


TINY = LipNetConfig(
    in_chans=1, input_size=(24, 48), channels=(8, 16, 16), rnn_size=32, rnn_layers=1, dropout=0.0,
    batch_norm=True,
)


@register_model
def lipnet_tiny(gray: bool | None = None, **overrides) -> LipNet:
    """A tiny LipNet for tests: gray 24x48, 8/16/16 channels, 1 x BiGRU 32."""
    return _build(TINY, gray, overrides)


class LipNetResNet(nn.Module):
    """A video backbone (3D front end + ResNet trunk, per-frame features) with LipNet's BiGRU/CTC head.

    ``forward(x (B, C, T, H, W), lengths (B,)) -> (log_probs (B, T, V), out_lengths (B,))``; the
    backbone keeps T. Its only temporal mixing is the first Conv3d, whose zero padding equals the
    batch's zero padding, so padded clips give the same outputs in eval mode.
    """

    def __init__(self, backbone: str = "video_resnet18", in_chans: int = 1, rnn_size: int = 256,
                 rnn_layers: int = 2, rnn_dropout: float = 0.0, vocab: str = "grid",
                 num_classes: int | None = None, **backbone_args):
        super().__init__()
        self.in_chans = in_chans
        self.backbone = create_model(backbone, in_chans=in_chans, **backbone_args)
        out = num_classes or Tokenizer.from_name(vocab).ctc_size
        self.head = BiGRUHead(self.backbone.out_dim, rnn_size, rnn_layers, out, rnn_dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, T, H, W) in [0, 1], lengths (B,) -> (log_probs (B, T, V), out_lengths (B,) int64)."""
        if x.dim() != 5 or x.shape[1] != self.in_chans:
            raise ValueError(f"LipNetResNet expects (B, {self.in_chans}, T, H, W) input, got {tuple(x.shape)}")
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[2], dtype=torch.int64)
        feats = self.backbone(x)  # (B, T, D)
        out_lengths = lengths.to(torch.int64).cpu().clamp(max=feats.shape[1])
        return self.head(feats, out_lengths), out_lengths.to(x.device)


@register_model
def lipnet_resnet(gray: bool = True, **kwargs) -> LipNetResNet:
    """3D front end + ResNet-18 trunk (``video_resnet18``) + 2 x BiGRU 256 + CTC; gray 50x100 by default."""
    model = LipNetResNet(in_chans=1 if gray else 3, **kwargs)
    model.input_spec = f"(B, {model.in_chans}, 75, 50, 100)"
    return model


@register_model
def lipnet_resnet_tiny(gray: bool = True, **kwargs) -> LipNetResNet:
    """Test-sized ``lipnet_resnet``: ``video_resnet_tiny`` + 1 x BiGRU 16."""
    kwargs = {"backbone": "video_resnet_tiny", "rnn_size": 16, "rnn_layers": 1, **kwargs}
    model = LipNetResNet(in_chans=1 if gray else 3, **kwargs)
    model.input_spec = f"(B, {model.in_chans}, 16, 32, 32)"
    return model


__all__ = ["LipNet", "LipNetConfig", "LipNetResNet", "lipnet_resnet", "lipnet_resnet_tiny", "BiGRUHead", "conv_out", "lipnet", "lipnet_small", "lipnet_tiny"]


def channels_last(model: nn.Module) -> nn.Module:
    """``model`` with its 3D convolutions' weights in the channels-last layout, which oneDNN runs 15-20% faster on
    a CPU (a LipNet front end: 62 -> 50 ms per 3-s clip at one thread); a LipNet in eval mode then feeds them its
    input in that layout too. Numerically the same computation (differences ~1e-5). For inference on the CPU."""
    return model.to(memory_format=torch.channels_last_3d)
