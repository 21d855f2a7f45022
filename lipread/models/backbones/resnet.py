"""ResNet (He et al. 2016) with torchvision's parameter names, so its state dicts load ``strict=True``.

Stages (``feature_info``): 0 stem (conv1-bn1-relu, stride 2), 1..4 ``layer1``..``layer4``
(strides 4, 8, 16, 32). Shapes: x (B, in_chans, H, W) -> logits (B, num_classes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn

from lipread.models.backbones.features import Backbone
from lipread.models.registry import register_model


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 expand x4 (ResNet-50+)."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv1x1(cin, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(Backbone):
    """ResNet image backbone.

    Args:
        block: "basic" or "bottleneck".
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        in_chans: input channels (1 for grayscale mouth crops).
        num_classes: classifier outputs; 0 = no head (forward returns pooled (B, num_features)).
        widths: planes of the four stages (torchvision: 64, 128, 256, 512).
        stem: False drops conv1/bn1/maxpool: the input is then already a (B, in_chans, H, W) map
            (used as the trunk behind the 3D front end; stage 0 is then the identity).
        features_only / out_indices: return the chosen stage maps instead (see ``features.py``).
    """

    def __init__(
        self,
        block: str = "basic",
        layers: Sequence[int] = (2, 2, 2, 2),
        in_chans: int = 3,
        num_classes: int = 1000,
        widths: Sequence[int] = (64, 128, 256, 512),
        stem: bool = True,
        features_only: bool = False,
        out_indices: Sequence[int] | None = None,
    ):
        super().__init__()
        block_cls = BLOCKS[block]
        self.num_classes = num_classes
        self.inplanes = widths[0] if stem else in_chans
        self.has_stem = stem
        if stem:
            self.conv1 = nn.Conv2d(in_chans, self.inplanes, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.first_conv = "conv1.weight" if stem else None
        # without a stem, an ImageNet state dict's stem weights are left out when loading
        self.ignore_prefixes = () if stem else ("conv1.", "bn1.")
        self.feature_info = [{"num_chs": self.inplanes, "reduction": 2 if stem else 1, "module": "act1"}]
        reduction = 4 if stem else 1
        for i, (planes, n) in enumerate(zip(widths, layers, strict=True)):
            stride = 1 if i == 0 else 2
            reduction = reduction if i == 0 else reduction * 2
            setattr(self, f"layer{i + 1}", self._make_layer(block_cls, planes, n, stride))
            self.feature_info.append(
                {"num_chs": self.inplanes, "reduction": reduction, "module": f"layer{i + 1}"}
            )
        self.num_features = self.inplanes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        self.head_prefix = "fc."
        self._init_weights()
        if features_only:
            keep = {-1: ["avgpool", "fc"], **{i + 1: [f"layer{i + 1}"] for i in range(len(widths))}}
            self._set_features_only(out_indices, keep)

    def _make_layer(self, block_cls, planes: int, n: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block_cls.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block_cls.expansion, stride),
                nn.BatchNorm2d(planes * block_cls.expansion),
            )
        blocks = [block_cls(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block_cls.expansion
        blocks += [block_cls(self.inplanes, planes) for _ in range(1, n)]
        return nn.Sequential(*blocks)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def stages(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield stage outputs: stem (B, w0, H/2, W/2), then layer1..4."""
        if self.has_stem:
            x = self.relu(self.bn1(self.conv1(x)))
            yield x
            x = self.maxpool(x)
        else:
            yield x
        for i in range(1, len(self.feature_info)):
            layer = getattr(self, f"layer{i}")
            if layer is None:
                return
            x = layer(x)
            yield x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """(B, C, h, w) -> (B, num_classes) (or (B, num_features) when pre_logits / no head)."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)


def _resnet(block: str, layers, input_spec: str = "(B, 3, 224, 224)", **kwargs) -> ResNet:
    model = ResNet(block, layers, **kwargs)
    c = kwargs.get("in_chans", 3)
    model.input_spec = input_spec.replace("(B, 3,", f"(B, {c},")
    return model


@register_model
def resnet18(**kwargs) -> ResNet:
    """ResNet-18 (11,689,512 parameters with the ImageNet head)."""
    return _resnet("basic", (2, 2, 2, 2), **kwargs)


@register_model
def resnet34(**kwargs) -> ResNet:
    """ResNet-34 (21,797,672 parameters)."""
    return _resnet("basic", (3, 4, 6, 3), **kwargs)


@register_model
def resnet50(**kwargs) -> ResNet:
    """ResNet-50 (25,557,032 parameters)."""
    return _resnet("bottleneck", (3, 4, 6, 3), **kwargs)


@register_model
def resnet101(**kwargs) -> ResNet:
    """ResNet-101 (44,549,160 parameters)."""
    return _resnet("bottleneck", (3, 4, 23, 3), **kwargs)


@register_model
def resnet152(**kwargs) -> ResNet:
    """ResNet-152 (60,192,808 parameters)."""
    return _resnet("bottleneck", (3, 8, 36, 3), **kwargs)


@register_model
def resnet_tiny(**kwargs) -> ResNet:
    """Test-sized ResNet: one BasicBlock per stage, widths 4-32, 10 classes."""
    kwargs = {"widths": (4, 8, 16, 32), "num_classes": 10, **kwargs}
    return _resnet("basic", (1, 1, 1, 1), input_spec="(B, 3, 32, 32)", **kwargs)


@register_model
def resnet_tiny_bottleneck(**kwargs) -> ResNet:
    """Test-sized ResNet with Bottleneck blocks."""
    kwargs = {"widths": (4, 8, 16, 32), "num_classes": 10, **kwargs}
    return _resnet("bottleneck", (1, 1, 1, 1), input_spec="(B, 3, 32, 32)", **kwargs)
