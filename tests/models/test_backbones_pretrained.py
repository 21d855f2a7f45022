"""Loading torchvision-style weights: files (.pth with weights_only, .safetensors), the first-conv
adaptation to ``in_chans``, head and features_only handling, old DenseNet names, the download cache."""

from __future__ import annotations

import hashlib

import pytest
import torch
from safetensors.torch import save_file

from lipread.errors import CheckpointError, InputFileError
from lipread.models import create_model
from lipread.models.backbones.pretrained import (
    adapt_input_conv,
    cached_download,
    load_pretrained,
    read_state_dict,
    remap_legacy_keys,
    torchvision_url,
)

torch.set_num_threads(1)


def trained_state(name: str, side: int = 32, **kw) -> tuple[torch.nn.Module, dict]:
    """A model with non-default BatchNorm statistics and its state dict (stand-in for ImageNet weights)."""
    torch.manual_seed(0)
    model = create_model(name, **kw)
    with torch.no_grad():
        model.train()(torch.rand(4, 3, side, side))
    return model.eval(), {k: v.clone() for k, v in model.state_dict().items()}


def test_adapt_input_conv_rules():
    w = torch.randn(8, 3, 7, 7)
    torch.testing.assert_close(adapt_input_conv(1, w), w.sum(1, keepdim=True))
    assert adapt_input_conv(3, w) is w
    w5 = adapt_input_conv(5, w)
    assert w5.shape == (8, 5, 7, 7)
    torch.testing.assert_close(w5[:, :3], w * 3 / 5)
    torch.testing.assert_close(w5[:, 3:], w[:, :2] * 3 / 5)
    w3d = adapt_input_conv(1, torch.randn(8, 3, 5, 7, 7))
    assert w3d.shape == (8, 1, 5, 7, 7)


@pytest.mark.parametrize("name", ["resnet_tiny", "densenet_tiny", "vgg_tiny", "vggm_tiny"])
def test_gray_model_from_rgb_weights_sees_what_rgb_model_sees(name):
    """Summing the first conv over RGB: a 1-channel model on a gray image == the RGB model on it."""
    side = 64 if name == "vggm_tiny" else 32
    rgb, state = trained_state(name, side)
    gray = load_pretrained(create_model(name, in_chans=1).eval(), state)
    x = torch.rand(2, 1, side, side)
    with torch.no_grad():
        torch.testing.assert_close(gray(x), rgb(x.expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-5)


def test_load_from_pth_and_safetensors_files(tmp_path):
    rgb, state = trained_state("resnet_tiny")
    torch.save(state, tmp_path / "w.pth")
    save_file(state, str(tmp_path / "w.safetensors"))
    x = torch.rand(1, 3, 32, 32)
    for f in ("w.pth", "w.safetensors"):
        model = load_pretrained(create_model("resnet_tiny").eval(), tmp_path / f)
        with torch.no_grad():
            torch.testing.assert_close(model(x), rgb(x))


def test_pickled_objects_are_refused(tmp_path):
    torch.save({"fn": len, "w": torch.zeros(1)}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="cannot read weights"):
        read_state_dict(tmp_path / "evil.pth")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "junk.safetensors")


def test_head_dropped_when_classes_differ_and_features_only_loads():
    rgb, state = trained_state("resnet_tiny")  # 10 classes
    x = torch.rand(1, 3, 32, 32)
    headless = load_pretrained(create_model("resnet_tiny", num_classes=0).eval(), state)
    other = load_pretrained(create_model("resnet_tiny", num_classes=3).eval(), state)
    feats = load_pretrained(create_model("resnet_tiny", features_only=True, out_indices=(2,)).eval(), state)
    with torch.no_grad():
        pooled = rgb.forward_head(rgb.forward_features(x), pre_logits=True)
        torch.testing.assert_close(headless(x), pooled)
        torch.testing.assert_close(other.forward_head(other.forward_features(x), pre_logits=True), pooled)
        torch.testing.assert_close(feats(x)[0], rgb.forward_intermediates(x)[2])


def test_wrong_architecture_is_a_clear_error():
    _, state = trained_state("resnet_tiny")
    with pytest.raises(CheckpointError, match="do not fit ResNet"):
        load_pretrained(create_model("resnet_tiny_bottleneck"), state)
    with pytest.raises(CheckpointError, match="do not fit DenseNet"):
        load_pretrained(create_model("densenet_tiny"), state)


def test_old_torchvision_densenet_names_are_renamed():
    rgb, state = trained_state("densenet_tiny")
    legacy = {k.replace(".norm1.", ".norm.1.").replace(".conv2.", ".conv.2."): v for k, v in state.items()}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    assert remap_legacy_keys(legacy).keys() == state.keys()
    model = load_pretrained(create_model("densenet_tiny").eval(), legacy)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), rgb(x))


def test_video_trunk_takes_resnet_weights():
    """The 3D front end replaces the stem: the trunk loads an ImageNet ResNet's layers, stem skipped."""
    _, state = trained_state("resnet_tiny", widths=(8, 8, 16, 32))
    video = create_model("video_resnet_tiny", widths=(8, 8, 16, 32))
    load_pretrained(video.trunk, state)
    torch.testing.assert_close(video.trunk.layer3[0].conv1.weight, state["layer3.0.conv1.weight"])


def test_cached_download_local_path_url_cache_and_hash(tmp_path):
    _, state = trained_state("resnet_tiny")
    src = tmp_path / "src"
    src.mkdir()
    plain = src / "tiny.pth"
    torch.save(state, plain)
    assert cached_download(plain) == plain
    with pytest.raises(InputFileError, match="not found"):
        cached_download(src / "missing.pth")

    cache = tmp_path / "cache"
    got = cached_download(plain.as_uri(), cache_dir=cache)
    assert got == cache / "tiny.pth" and got.read_bytes() == plain.read_bytes()
    plain.write_bytes(b"changed")  # a second call reuses the cached copy
    assert cached_download(plain.as_uri(), cache_dir=cache).read_bytes() != b"changed"

    data = b"weights"
    digest = hashlib.sha256(data).hexdigest()
    good = src / f"w-{digest[:8]}.pth"
    good.write_bytes(data)
    assert cached_download(good.as_uri(), cache_dir=cache).read_bytes() == data
    bad = src / "w-00000000.pth"
    bad.write_bytes(data)
    with pytest.raises(CheckpointError, match="sha256"):
        cached_download(bad.as_uri(), cache_dir=cache)
    assert not (cache / bad.name).exists()
    with pytest.raises(InputFileError, match="could not download"):
        cached_download((src / "nothere-1234abcd.pth").as_uri(), cache_dir=cache)


def test_torchvision_urls():
    assert torchvision_url("resnet18").endswith("/resnet18-f37072fd.pth")
    with pytest.raises(InputFileError):
        torchvision_url("resnet_tiny")
