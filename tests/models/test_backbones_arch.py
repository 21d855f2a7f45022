"""Architecture facts: published parameter counts, torchvision's state-dict names and shapes,
``feature_info`` / ``features_only``, and (where torchvision is importable) identical outputs."""

from __future__ import annotations

import pytest
import torch

from lipread.models import create_model
from lipread.models.backbones import count_params
from lipread.models.backbones.features import check_out_indices

torch.set_num_threads(1)

PUBLISHED = {  # torchvision's documented parameter counts (ImageNet heads)
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "densenet121": 7_978_856,
    "densenet161": 28_681_000,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
}


def meta(name: str, **kw):
    with torch.device("meta"):
        return create_model(name, **kw)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_counts(name):
    assert count_params(meta(name)) == PUBLISHED[name]


KEYS = {  # (model, key) -> shape, as in torchvision's state dicts
    "resnet18": {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.running_mean": (64,),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer2.0.downsample.1.num_batches_tracked": (),
        "layer4.1.bn2.bias": (512,),
        "fc.weight": (1000, 512),
    },
    "resnet50": {
        "layer1.0.conv3.weight": (256, 64, 1, 1),
        "layer3.5.conv2.weight": (256, 256, 3, 3),
        "layer4.2.bn3.weight": (2048,),
        "fc.weight": (1000, 2048),
    },
    "densenet121": {
        "features.conv0.weight": (64, 3, 7, 7),
        "features.norm0.running_var": (64,),
        "features.denseblock1.denselayer1.norm1.weight": (64,),
        "features.denseblock1.denselayer1.conv1.weight": (128, 64, 1, 1),
        "features.denseblock4.denselayer16.conv2.weight": (32, 128, 3, 3),
        "features.transition3.conv.weight": (512, 1024, 1, 1),
        "features.norm5.weight": (1024,),
        "classifier.weight": (1000, 1024),
    },
    "vgg16": {
        "features.0.weight": (64, 3, 3, 3),
        "features.28.weight": (512, 512, 3, 3),
        "classifier.0.weight": (4096, 25088),
        "classifier.3.weight": (4096, 4096),
        "classifier.6.weight": (1000, 4096),
    },
    "vgg16_bn": {
        "features.1.running_var": (64,),
        "features.40.weight": (512, 512, 3, 3),
        "features.41.running_mean": (512,),
        "classifier.6.bias": (1000,),
    },
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_torchvision_state_dict_names(name):
    state = meta(name).state_dict()
    for key, shape in KEYS[name].items():
        assert key in state, key
        assert tuple(state[key].shape) == shape, key


def test_vgg16_layout_matches_torchvision():
    convs = sorted(
        int(k.split(".")[1])
        for k in meta("vgg16").state_dict()
        if k.startswith("features.") and k.endswith("weight")
    )
    assert convs == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


def test_vggm_layout():
    """Chatfield et al. 2014: conv1 96x7x7/2, conv2 256x5x5/2, conv3-5 512, fc6 on a 6x6x512 pool5."""
    state = meta("vggm").state_dict()
    assert tuple(state["features.conv1.weight"].shape) == (96, 3, 7, 7)
    assert tuple(state["features.conv2.weight"].shape) == (256, 96, 5, 5)
    assert tuple(state["features.conv5.weight"].shape) == (512, 512, 3, 3)
    assert tuple(state["classifier.fc6.weight"].shape) == (4096, 512 * 6 * 6)
    with torch.device("meta"):
        net = create_model("vggm")
        pool5 = net.forward_features(torch.empty(1, 3, 224, 224))
    assert tuple(pool5.shape) == (1, 512, 6, 6)


TINY = {"resnet_tiny": 32, "resnet_tiny_bottleneck": 32, "densenet_tiny": 32, "vgg_tiny": 32, "vggm_tiny": 64}


@pytest.mark.parametrize("name", sorted(TINY))
def test_features_only_matches_feature_info(name):
    side = TINY[name]
    full = create_model(name)
    n = len(full.feature_info)
    picks = (1, n - 2)
    net = create_model(name, features_only=True, out_indices=picks, in_chans=1)
    outs = net(torch.rand(2, 1, side, side))
    assert len(outs) == 2
    for out, info in zip(outs, net.stage_info(), strict=True):
        assert out.shape[1] == info["num_chs"]
        r = info["reduction"]  # nominal: VGG-M's unpadded convolutions trim a few pixels more
        assert side // (2 * r) < out.shape[-1] <= -(-side // r)
    # stages after the last one asked for (and the head) are gone, and what is left all trains
    assert count_params(net) < count_params(create_model(name, in_chans=1))
    sum(o.pow(2).mean() for o in outs).backward()
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("name", ["resnet_tiny", "densenet_tiny", "vgg_tiny"])
def test_stage_maps_shrink_by_their_reduction(name):
    net = create_model(name, features_only=True)
    outs = net(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [i["num_chs"] for i in net.feature_info]
    assert [64 // o.shape[-1] for o in outs] == [i["reduction"] for i in net.feature_info]


@pytest.mark.parametrize("name", ["resnet_tiny", "densenet_tiny", "vgg_tiny", "vggm_tiny"])
def test_forward_is_features_then_head(name):
    net = create_model(name).eval()
    x = torch.rand(2, 3, TINY[name], TINY[name])
    with torch.no_grad():
        torch.testing.assert_close(net(x), net.forward_head(net.forward_features(x)))
        headless = create_model(name, num_classes=0).eval()
        headless.load_state_dict({k: v for k, v in net.state_dict().items() if k in headless.state_dict()})
        torch.testing.assert_close(headless(x), net.forward_head(net.forward_features(x), pre_logits=True))
    assert headless(x).shape == (2, net.num_features)


def test_out_indices_checked():
    assert check_out_indices(None, 5) == (0, 1, 2, 3, 4)
    assert check_out_indices((-1,), 5) == (4,)
    for bad in [(5,), (2, 1), (1, 1), ()]:
        with pytest.raises(ValueError):
            check_out_indices(bad, 5)


TV = ["resnet18", "resnet50", "densenet121", "vgg11_bn"]


@pytest.mark.parametrize("name", TV)
def test_same_outputs_as_torchvision(name):
    tvm = pytest.importorskip(
        "torchvision.models",
        reason="torchvision is not installed (no build fits torch 2.13 here); "
        "test_torchvision_state_dict_names and the parameter counts check the layout instead",
    )
    ref = getattr(tvm, name)(weights=None).eval()
    ours = create_model(name).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_bottleneck_strides_in_the_3x3_like_torchvision():
    """torchvision's ResNet-50 is "V1.5": the stride sits in conv2 (3x3), not conv1 (1x1)."""
    block = meta("resnet50").layer2[0]
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)
    assert block.downsample[0].stride == (2, 2)
