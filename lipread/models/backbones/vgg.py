"""VGG (Simonyan & Zisserman 2015) with torchvision's parameter names, and VGG-M (Chatfield et al. 2014).

VGG stages (``feature_info``): the maps before each of the five max-pools (strides 1, 2, 4, 8, 16)
and the last pooled map (stride 32). ``num_classes=0`` keeps the two 4096-wide fully connected
layers and drops only the last linear (forward then returns (B, fc_dim) "pre-logits").
Shapes: x (B, in_chans, H, W) -> logits (B, num_classes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from lipread.models.backbones.features import Backbone
from lipread.models.registry import register_model

M = "M"
CFGS: dict[str, list] = {
    "A": [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "B": [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "D": [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
    "E": [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
    "tiny": [4, M, 8, M, 16, M, 16, M, 32, M],
}


def make_mlp_head(cin: int, fc_dim: int, num_classes: int, dropout: float, names=None) -> nn.Sequential:
    """Linear-ReLU-Dropout x2 then the classifier (Identity when ``num_classes == 0``)."""
    layers = [
        nn.Linear(cin, fc_dim), nn.ReLU(True), nn.Dropout(dropout),
        nn.Linear(fc_dim, fc_dim), nn.ReLU(True), nn.Dropout(dropout),
        nn.Linear(fc_dim, num_classes) if num_classes > 0 else nn.Identity(),
    ]  # fmt: skip
    return nn.Sequential(OrderedDict(zip(names, layers, strict=True))) if names else nn.Sequential(*layers)


def init_vgg(model: nn.Module) -> None:
    """torchvision's VGG initialisation."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


class SequentialStages(Backbone):
    """A backbone whose ``features`` is an nn.Sequential cut into stages by child names."""

    features: nn.Sequential
    _stage_modules: list[list[str]]

    def stages(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        for names in self._stage_modules:
            if names and names[-1] not in self.features._modules:
                return
            for n in names:
                x = self.features._modules[n](x)
            yield x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """(B, C, h, w) -> adaptive average pool, flatten, MLP head -> (B, num_classes or fc_dim)."""
        x = torch.flatten(self.avgpool(x), 1)
        if pre_logits:
            return self.classifier[:-1](x)
        return self.classifier(x)

    def _finish(self, features_only: bool, out_indices) -> None:
        init_vgg(self)
        if features_only:
            keep = {i: [f"features.{n}" for n in names] for i, names in enumerate(self._stage_modules)}
            keep[-1] = ["avgpool", "classifier"]
            self._set_features_only(out_indices, keep)


class VGG(SequentialStages):
    """VGG backbone.

    Args:
        cfg: layer list (channels, or "M" for a 2x2 max-pool), or a name in ``CFGS`` ("A"=VGG-11,
            "B"=13, "D"=16, "E"=19).
        batch_norm: BatchNorm after each convolution.
        in_chans, num_classes (0 = no last linear), features_only, out_indices: as every backbone.
        pool_size: adaptive average pool output side before the MLP (torchvision: 7).
        fc_dim: width of the two hidden fully connected layers (torchvision: 4096).
        dropout: dropout in the MLP head.
    """

    def __init__(
        self,
        cfg: str | Sequence = "D",
        batch_norm: bool = False,
        in_chans: int = 3,
        num_classes: int = 1000,
        pool_size: int = 7,
        fc_dim: int = 4096,
        dropout: float = 0.5,
        features_only: bool = False,
        out_indices: Sequence[int] | None = None,
    ):
        super().__init__()
        cfg = CFGS[cfg] if isinstance(cfg, str) else list(cfg)
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        self._stage_modules, current = [], []
        self.feature_info = []
        c, reduction = in_chans, 1
        for v in cfg:
            if v == M:
                self._stage_modules.append(current)
                self.feature_info.append(
                    {"num_chs": c, "reduction": reduction, "module": f"features.{current[-1]}"}
                )
                current = [str(len(layers))]
                layers.append(nn.MaxPool2d(2, 2))
                reduction *= 2
                continue
            block = (
                [nn.Conv2d(c, v, 3, padding=1)]
                + ([nn.BatchNorm2d(v)] if batch_norm else [])
                + [nn.ReLU(True)]
            )
            current += [str(len(layers) + i) for i in range(len(block))]
            layers += block
            c = v
        self._stage_modules.append(current)
        self.feature_info.append({"num_chs": c, "reduction": reduction, "module": f"features.{current[-1]}"})
        self.features = nn.Sequential(*layers)
        self.first_conv = "features.0.weight"
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = make_mlp_head(c * pool_size * pool_size, fc_dim, num_classes, dropout)
        self.head_prefix = "classifier.6."
        self.num_features = fc_dim
        self._finish(features_only, out_indices)


class VGGM(SequentialStages):
    """VGG-M ("Return of the Devil in the Details", Chatfield et al. 2014), the image encoder of WLAS.

    conv1 96x7x7/2 + LRN + 3x3/2 pool; conv2 256x5x5/2 + LRN + pool; conv3-5 512x3x3; pool5; fc6, fc7, fc8.
    Pools use ``ceil_mode`` as the Caffe original (224x224 gives a 6x6 pool5 map).
    Stages: 0 conv1-relu1-norm1 (stride 2), 1 pool1..norm2 (8), 2 pool2..relu5 (16), 3 pool5 (32).
    Args are as :class:`VGG` (``widths``: conv1..conv5 channels; ``pool_size`` defaults to 6).
    """

    def __init__(
        self,
        in_chans: int = 3,
        num_classes: int = 1000,
        widths: Sequence[int] = (96, 256, 512, 512, 512),
        pool_size: int = 6,
        fc_dim: int = 4096,
        dropout: float = 0.5,
        features_only: bool = False,
        out_indices: Sequence[int] | None = None,
    ):
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        self.num_classes = num_classes

        def lrn() -> nn.Module:
            return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)

        def pool() -> nn.Module:
            return nn.MaxPool2d(3, stride=2, ceil_mode=True)

        layers = [
            ("conv1", nn.Conv2d(in_chans, w1, 7, stride=2)), ("relu1", nn.ReLU(True)), ("norm1", lrn()),
            ("pool1", pool()), ("conv2", nn.Conv2d(w1, w2, 5, stride=2, padding=1)), ("relu2", nn.ReLU(True)),
            ("norm2", lrn()),
            ("pool2", pool()), ("conv3", nn.Conv2d(w2, w3, 3, padding=1)), ("relu3", nn.ReLU(True)),
            ("conv4", nn.Conv2d(w3, w4, 3, padding=1)), ("relu4", nn.ReLU(True)),
            ("conv5", nn.Conv2d(w4, w5, 3, padding=1)), ("relu5", nn.ReLU(True)),
            ("pool5", pool()),
        ]  # fmt: skip
        self.features = nn.Sequential(OrderedDict(layers))
        self._stage_modules = [
            ["conv1", "relu1", "norm1"],
            ["pool1", "conv2", "relu2", "norm2"],
            ["pool2", "conv3", "relu3", "conv4", "relu4", "conv5", "relu5"],
            ["pool5"],
        ]
        chans, strides = (w1, w2, w5, w5), (2, 8, 16, 32)
        self.feature_info = [
            {"num_chs": c, "reduction": r, "module": f"features.{names[-1]}"}
            for c, r, names in zip(chans, strides, self._stage_modules, strict=True)
        ]
        self.first_conv = "features.conv1.weight"
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        names = ["fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
        self.classifier = make_mlp_head(w5 * pool_size * pool_size, fc_dim, num_classes, dropout, names)
        self.head_prefix = "classifier.fc8."
        self.num_features = fc_dim
        self._finish(features_only, out_indices)


def _vgg(cfg: str, batch_norm: bool, **kwargs) -> VGG:
    model = VGG(cfg, batch_norm, **kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 224, 224)"
    return model


_COUNTS = {"A": (132_863_336, 132_868_840), "B": (133_047_848, 133_053_736),
           "D": (138_357_544, 138_365_992), "E": (143_667_240, 143_678_248)}  # fmt: skip


def _register_vgg(depth: int, cfg: str) -> None:
    for bn in (False, True):
        name = f"vgg{depth}_bn" if bn else f"vgg{depth}"

        def builder(_cfg=cfg, _bn=bn, **kwargs) -> VGG:
            return _vgg(_cfg, _bn, **kwargs)

        builder.__name__ = name
        builder.__doc__ = f"VGG-{depth}{' with batch norm' if bn else ''} ({_COUNTS[cfg][bn]:,} parameters)."
        register_model(builder, name=name)


for _depth, _cfg in ((11, "A"), (13, "B"), (16, "D"), (19, "E")):
    _register_vgg(_depth, _cfg)


@register_model
def vgg_tiny(**kwargs) -> VGG:
    """Test-sized VGG with batch norm: five conv stages of 4-32 channels, 16-wide MLP, 10 classes."""
    kwargs = {"num_classes": 10, "pool_size": 1, "fc_dim": 16, **kwargs}
    model = VGG("tiny", True, **kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 32, 32)"
    return model


@register_model
def vggm(**kwargs) -> VGGM:
    """VGG-M (Chatfield et al. 2014), the WLAS image encoder; 224x224 input gives 6x6 pool5."""
    model = VGGM(**kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 224, 224)"
    return model


@register_model
def vggm_tiny(**kwargs) -> VGGM:
    """Test-sized VGG-M: conv widths 4-16, 16-wide MLP, 10 classes."""
    kwargs = {"num_classes": 10, "widths": (4, 8, 16, 16, 16), "pool_size": 1, "fc_dim": 16, **kwargs}
    model = VGGM(**kwargs)
    model.input_spec = f"(B, {kwargs.get('in_chans', 3)}, 64, 64)"
    return model
