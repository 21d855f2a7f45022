"""Video backbones: a 2D backbone per frame, the 3D-conv lipreading front end + ResNet, DenseNet-3D.

Every class here maps a clip ``x`` (B, C, T, H, W) float in [0, 1] to per-frame features (B, T, D),
keeps the temporal resolution (T in = T out) and says ``D`` in ``out_dim``.
Legend: B batch, C channels, T frames, H, W height, width, D feature width.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lipread.models.backbones.densenet import DenseNet
from lipread.models.backbones.resnet import ResNet
from lipread.models.registry import create_model, register_model


class FrameWise(nn.Module):
    """Run a 2D backbone (built with ``num_classes=0``) on every frame: (B, C, T, H, W) -> (B, T, D).

    ``chunk`` > 0 bounds memory by running at most that many frames through the backbone at once.
    """

    def __init__(self, backbone: nn.Module, chunk: int = 0):
        super().__init__()
        self.backbone = backbone
        self.chunk = chunk
        self.out_dim = int(backbone.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        if self.chunk > 0:
            feats = torch.cat([self.backbone(f) for f in frames.split(self.chunk)])
        else:
            feats = self.backbone(frames)
        return feats.reshape(b, t, -1)


class Frontend3D(nn.Module):
    """The lipreading visual front end (Stafylakis & Tzimiropoulos 2017; Martinez et al. 2020).

    Conv3d 5x7x7 stride (1, 2, 2) padding (2, 3, 3) + BatchNorm3d + ReLU + MaxPool3d (1, 3, 3)
    stride (1, 2, 2): (B, C, T, H, W) -> (B, out_chans, T, H/4, W/4).
    """

    def __init__(self, in_chans: int = 1, out_chans: int = 64):
        super().__init__()
        self.conv = nn.Conv3d(in_chans, out_chans, (5, 7, 7), stride=(1, 2, 2), padding=(2, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(out_chans)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.out_chans = out_chans

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class VideoResNet(nn.Module):
    """3D front end, then a 2D ResNet trunk (no stem) per frame, global average pool: (B, T, D).

    Args:
        block, layers, widths: the trunk (ResNet-18: "basic", (2, 2, 2, 2), (64, 128, 256, 512)).
        in_chans: clip channels (1 grayscale, 3 RGB).
        frontend_chans: front-end output channels (64 in the papers).
    Attributes: ``frontend`` (Frontend3D), ``trunk`` (ResNet with torchvision names, so
    ``trunk.layer*`` can take ImageNet weights), ``out_dim`` = D (512 for ResNet-18).
    For an 88x88 mouth crop the trunk sees 22x22 maps and ends at 3x3 before pooling.
    """

    def __init__(
        self,
        block: str = "basic",
        layers: Sequence[int] = (2, 2, 2, 2),
        in_chans: int = 1,
        widths: Sequence[int] = (64, 128, 256, 512),
        frontend_chans: int = 64,
    ):
        super().__init__()
        self.frontend = Frontend3D(in_chans, frontend_chans)
        self.trunk = ResNet(block, layers, in_chans=frontend_chans, num_classes=0, widths=widths, stem=False)
        self.out_dim = self.trunk.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T, out_dim)."""
        y = self.frontend(x)
        b, c, t, h, w = y.shape
        y = y.transpose(1, 2).reshape(b * t, c, h, w)
        return self.trunk(y).reshape(b, t, -1)


class DenseNet3D(nn.Module):
    """DenseNet with 3D convolutions: the 5x7x7 front-end stem, dense blocks of 3x3x3 convolutions,
    transitions that pool space only; spatial average pool at the end: (B, C, T, H, W) -> (B, T, D).

    Args are :class:`~lipread.models.backbones.densenet.DenseNet`'s (``dims=3``, no classifier).
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0.0,
        in_chans: int = 1,
    ):
        super().__init__()
        self.net = DenseNet(
            growth_rate, block_config, num_init_features, bn_size, drop_rate, in_chans, num_classes=0, dims=3
        )
        self.out_dim = self.net.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T, out_dim)."""
        y = torch.relu(self.net.forward_features(x))  # (B, D, T, h, w)
        return y.mean((-2, -1)).transpose(1, 2)


def _spec(model: nn.Module, c: int, t: int, side: int) -> nn.Module:
    model.input_spec = f"(B, {c}, {t}, {side}, {side})"
    return model


@register_model
def video_resnet18(**kwargs) -> VideoResNet:
    """3D front end + ResNet-18 trunk (Martinez et al. 2020): (B, 1, T, 88, 88) -> (B, T, 512)."""
    return _spec(VideoResNet("basic", (2, 2, 2, 2), **kwargs), kwargs.get("in_chans", 1), 29, 88)


@register_model
def video_resnet34(**kwargs) -> VideoResNet:
    """3D front end + ResNet-34 trunk: (B, 1, T, 88, 88) -> (B, T, 512)."""
    return _spec(VideoResNet("basic", (3, 4, 6, 3), **kwargs), kwargs.get("in_chans", 1), 29, 88)


@register_model
def video_resnet_tiny(**kwargs) -> VideoResNet:
    """Test-sized front end + ResNet: 8 front-end channels, widths 4-32 -> (B, T, 32)."""
    kwargs = {"widths": (4, 8, 16, 32), "frontend_chans": 8, **kwargs}
    return _spec(VideoResNet("basic", (1, 1, 1, 1), **kwargs), kwargs.get("in_chans", 1), 8, 32)


@register_model
def video_densenet3d(**kwargs) -> DenseNet3D:
    """DenseNet-3D with DenseNet-121's block layout: (B, 1, T, 88, 88) -> (B, T, 1024)."""
    return _spec(DenseNet3D(**kwargs), kwargs.get("in_chans", 1), 29, 88)


@register_model
def video_densenet3d_tiny(**kwargs) -> DenseNet3D:
    """Test-sized DenseNet-3D: growth 4, two layers per block."""
    kwargs = {"growth_rate": 4, "block_config": (2, 2, 2, 2), "num_init_features": 8, "bn_size": 2, **kwargs}
    return _spec(DenseNet3D(**kwargs), kwargs.get("in_chans", 1), 8, 32)


@register_model
def video_framewise(
    backbone: str = "resnet_tiny", in_chans: int = 1, chunk: int = 0, **backbone_args
) -> FrameWise:
    """Any registered 2D backbone run per frame: ``create_model("video_framewise", backbone="resnet18")``."""
    net = create_model(backbone, in_chans=in_chans, num_classes=0, **backbone_args)
    side = getattr(net, "input_spec", "(B, 3, 32, 32)").rstrip(")").split(", ")[-1]
    return _spec(FrameWise(net, chunk), in_chans, 8, int(side))
