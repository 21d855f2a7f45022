"""DenseNet (Huang et al. 2017) with torchvision's parameter names; 2D, or 3D for video (``dims=3``).

Stages (``feature_info``): 0 stem (conv0-norm0-relu0, stride 2), 1 ``denseblock1`` (stride 4),
2..4 transition + dense block (strides 8, 16, 32; stage 4 ends with ``norm5``).
Shapes: x (B, in_chans, H, W) -> logits (B, num_classes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lipread.models.backbones.features import Backbone
from lipread.models.registry import register_model

_LAYERS = {
    2: {"conv": nn.Conv2d, "norm": nn.BatchNorm2d},
    3: {"conv": nn.Conv3d, "norm": nn.BatchNorm3d},
}


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1 (to bn_size*growth) then BN-ReLU-Conv3x3 (to growth); input is a list of maps."""

    def __init__(self, cin: int, growth_rate: int, bn_size: int, drop_rate: float = 0.0, dims: int = 2):
        super().__init__()
        conv, norm = _LAYERS[dims]["conv"], _LAYERS[dims]["norm"]
        self.norm1 = norm(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = conv(cin, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = norm(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = conv(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))
        x = self.conv2(self.relu2(self.norm2(x)))
        if self.drop_rate > 0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x


class DenseBlock(nn.ModuleDict):
    """``denselayer1..n``; each layer sees the concatenation of the input and all earlier outputs."""

    def __init__(
        self, num_layers: int, cin: int, growth_rate: int, bn_size: int, drop_rate: float, dims: int
    ):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(cin + i * growth_rate, growth_rate, bn_size, drop_rate, dims)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 (halving channels) and 2x2 average pooling (spatial only in 3D)."""

    def __init__(self, cin: int, cout: int, dims: int = 2):
        super().__init__()
        self.norm = _LAYERS[dims]["norm"](cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = _LAYERS[dims]["conv"](cin, cout, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(2, stride=2) if dims == 2 else nn.AvgPool3d((1, 2, 2), stride=(1, 2, 2))


def dense_stem(in_chans: int, num_init_features: int, dims: int) -> list[tuple[str, nn.Module]]:
    """conv0-norm0-relu0-pool0: 7x7/2 + 3x3/2 max-pool in 2D; the lipreading 5x7x7 (1,2,2) stem in 3D."""
    if dims == 2:
        conv = nn.Conv2d(in_chans, num_init_features, 7, stride=2, padding=3, bias=False)
        pool = nn.MaxPool2d(3, stride=2, padding=1)
    else:
        conv = nn.Conv3d(in_chans, num_init_features, (5, 7, 7), (1, 2, 2), (2, 3, 3), bias=False)
        pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
    norm = _LAYERS[dims]["norm"](num_init_features)
    return [("conv0", conv), ("norm0", norm), ("relu0", nn.ReLU(inplace=True)), ("pool0", pool)]


class DenseNet(Backbone):
    """DenseNet-BC backbone.

    Args:
        growth_rate: channels each dense layer adds (k).
        block_config: dense layers per block, e.g. (6, 12, 24, 16) for DenseNet-121.
        num_init_features: stem channels.
        bn_size: bottleneck width multiplier (bn_size * k channels in the 1x1 conv).
        drop_rate: dropout after each dense layer.
        in_chans, num_classes (0 = no head), features_only, out_indices: as in every backbone.
        dims: 2 for images; 3 for video (temporal resolution kept; used by ``DenseNet3D``).
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0.0,
        in_chans: int = 3,
        num_classes: int = 1000,
        features_only: bool = False,
        out_indices: Sequence[int] | None = None,
        dims: int = 2,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.dims = dims
        self.features = nn.Sequential(OrderedDict(dense_stem(in_chans, num_init_features, dims)))
        self.first_conv = "features.conv0.weight"
        self.head_prefix = "classifier."
        self.feature_info = [{"num_chs": num_init_features, "reduction": 2, "module": "features.relu0"}]
        # names of the `features` children each stage runs (stage 0 runs the stem without pool0)
        self._stage_modules: list[list[str]] = [["conv0", "norm0", "relu0"]]
        c, reduction = num_init_features, 4
        for i, n in enumerate(block_config):
            names = ["pool0"] if i == 0 else [f"transition{i}"]
            self.features.add_module(
                f"denseblock{i + 1}", DenseBlock(n, c, growth_rate, bn_size, drop_rate, dims)
            )
            names.append(f"denseblock{i + 1}")
            c += n * growth_rate
            self.feature_info.append({"num_chs": c, "reduction": reduction, "module": ""})
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(c, c // 2, dims))
                c //= 2
            else:
                self.features.add_module("norm5", _LAYERS[dims]["norm"](c))
                names.append("norm5")
            self.feature_info[-1]["module"] = f"features.{names[-1]}"
            self._stage_modules.append(names)
            reduction *= 2
        self.num_features = c
        self.classifier = nn.Linear(c, num_classes) if num_classes > 0 else nn.Identity()
        self._init_weights()
        if features_only:
            keep = {i: [f"features.{n}" for n in names] for i, names in enumerate(self._stage_modules)}
            keep[-1] = ["classifier"]
            self._set_features_only(out_indices, keep)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Conv3d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def stages(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield the stem map (B, c0, H/2, W/2) and each block's output (strides 4 .. 32)."""
        for names in self._stage_modules:
            if not hasattr(self.features, names[-1]):
                return
            for n in names:
                x = getattr(self.features, n)(x)
            yield x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """(B, C, h, w) -> (B, num_classes): ReLU, global average pool, linear."""
        x = F.relu(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1) if self.dims == 2 else x.mean((-2, -1)), 1)
        return x if pre_logits else self.classifier(x)


def _densenet(growth_rate: int, block_config, num_init_features: int, **kwargs) -> DenseNet:
    model = DenseNet(growth_rate, block_config, num_init_features, **kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 224, 224)"
    return model


@register_model
def densenet121(**kwargs) -> DenseNet:
    """DenseNet-121 (7,978,856 parameters with the ImageNet head)."""
    return _densenet(32, (6, 12, 24, 16), 64, **kwargs)


@register_model
def densenet161(**kwargs) -> DenseNet:
    """DenseNet-161 (28,681,000 parameters)."""
    return _densenet(48, (6, 12, 36, 24), 96, **kwargs)


@register_model
def densenet169(**kwargs) -> DenseNet:
    """DenseNet-169 (14,149,480 parameters)."""
    return _densenet(32, (6, 12, 32, 32), 64, **kwargs)


@register_model
def densenet201(**kwargs) -> DenseNet:
    """DenseNet-201 (20,013,928 parameters)."""
    return _densenet(32, (6, 12, 48, 32), 64, **kwargs)


@register_model
def densenet_tiny(**kwargs) -> DenseNet:
    """Test-sized DenseNet: growth 4, two layers per block, 8 stem channels, 10 classes."""
    kwargs = {"num_classes": 10, "bn_size": 2, **kwargs}
    model = DenseNet(4, (2, 2, 2, 2), 8, **kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 32, 32)"
    return model
