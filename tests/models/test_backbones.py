"""Every registered backbone: forward shape, backward (every parameter gets a gradient), in_chans,
and a save/load round trip through the checkpoint format with strict loading.

Shapes are checked at each model's advertised input on the ``meta`` device (no compute); the numeric
tests run on small inputs. The VGG / VGG-M heads (4096 wide, 100+ M parameters) are shrunk with
``fc_dim=64`` in the numeric tests to keep this 2-core suite fast; their full size is covered by the
parameter-count tests in test_backbones_arch.py.
"""

from __future__ import annotations

import re

import pytest
import torch

from lipread.models import MODELS, create_model, list_models
from lipread.models.checkpoint import load_model, save_model

torch.set_num_threads(1)

BACKBONES = [n for n in list_models() if MODELS.get(n).__module__.startswith("lipread.models.backbones")]


def overrides(name: str) -> dict:
    """Test-time overrides: a narrow MLP head for the full-size VGGs."""
    return {"fc_dim": 64} if re.fullmatch(r"vgg\d+(_bn)?|vggm", name) else {}


def spec_shape(model) -> tuple[int, ...]:
    """The advertised input shape, with B = 2."""
    dims = model.input_spec.strip("()").split(", ")
    return (2, *(int(d) for d in dims[1:]))


def small_input(name: str, in_chans: int, video: bool) -> torch.Tensor:
    torch.manual_seed(0)
    if video:
        return torch.rand(2, in_chans, 4, 32, 32)
    side = 64 if name.startswith("vggm") else 32  # VGG-M's strided 7x7 + 5x5 need a bit more room
    return torch.rand(2, in_chans, side, side)


def is_video(model) -> bool:
    return len(spec_shape(model)) == 5


def expected_shape(model, x_shape) -> tuple[int, ...]:
    if len(x_shape) == 5:
        return (x_shape[0], x_shape[2], model.out_dim)
    return (x_shape[0], model.num_classes or model.num_features)


def test_backbones_are_registered():
    for name in [
        "resnet18",
        "resnet152",
        "densenet121",
        "densenet201",
        "vgg11",
        "vgg19_bn",
        "vggm",
        "video_resnet18",
    ]:
        assert name in BACKBONES
    with pytest.raises(ValueError, match="already registered"):
        MODELS.register("resnet18")(lambda **kw: None)


@pytest.fixture(scope="module", params=BACKBONES)
def name(request) -> str:
    """Module-scoped, so pytest groups each model's tests and builds it once."""
    return request.param


@pytest.fixture(scope="module")
def model(name):
    """The registered model with one input channel (the numeric tests share it)."""
    return create_model(name, in_chans=1, **overrides(name))


def test_forward_shape_at_advertised_input(name):
    with torch.device("meta"):
        net = create_model(name)
        shape = spec_shape(net)
        y = net(torch.empty(shape))
    assert tuple(y.shape) == expected_shape(net, shape)


def test_backward_every_parameter_gets_a_gradient(name, model):
    model.train().zero_grad(set_to_none=True)
    x = small_input(name, 1, is_video(model))
    y = model(x)
    assert tuple(y.shape) == expected_shape(model, x.shape)
    y.float().pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    zero = [n for n, p in model.named_parameters() if p.grad is not None and not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient: {missing[:5]}"
    assert not zero, f"all-zero gradient: {zero[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_in_chans_1(name, model):
    """One input channel (grayscale mouth crops); any other channel count is refused."""
    video = is_video(model)
    assert model.state_dict()[first_weight(model)].shape[1] == 1
    model.eval()
    with torch.no_grad():
        x = small_input(name, 1, video)
        assert tuple(model(x).shape) == expected_shape(model, x.shape)
        with pytest.raises(RuntimeError):
            model(small_input(name, 3, video))


def first_weight(model) -> str:
    """State-dict key of the first convolution."""
    return next(k for k, v in model.state_dict().items() if k.endswith("weight") and v.dim() >= 4)


def test_save_load_round_trip_strict(name, model, tmp_path):
    with torch.no_grad():  # move BatchNorm statistics off their defaults so the round trip means something
        model.train()(small_input(name, 1, is_video(model)))
    model.eval()
    save_model(tmp_path / "ckpt", model)
    loaded, config = load_model(tmp_path / "ckpt")
    assert config["model"] == {"name": name, "args": {"in_chans": 1, **overrides(name)}}
    assert loaded.state_dict().keys() == model.state_dict().keys()
    loaded.load_state_dict(model.state_dict(), strict=True)  # same keys and shapes, both ways
    x = small_input(name, 1, is_video(model))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
