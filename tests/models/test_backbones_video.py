"""Video backbones: (B, C, T, H, W) -> (B, T, D), frame independence of the per-frame wrapper,
the 3D front end's shapes, and the registered lipreading front end + ResNet-18."""

from __future__ import annotations

import pytest
import torch

from lipread.models import create_model
from lipread.models.backbones import FrameWise, Frontend3D, VideoResNet

torch.set_num_threads(1)


def test_frontend3d_shapes_and_receptive_field():
    fe = Frontend3D(in_chans=1, out_chans=8).eval()
    assert fe.conv.kernel_size == (5, 7, 7) and fe.conv.stride == (1, 2, 2) and fe.conv.padding == (2, 3, 3)
    assert fe.pool.kernel_size == (1, 3, 3) and fe.pool.stride == (1, 2, 2)
    x = torch.rand(2, 1, 7, 88, 88)
    y = fe(x)
    assert y.shape == (2, 8, 7, 22, 22)
    # the temporal kernel spans +-2 frames: changing frame 6 moves outputs 4..6 and nothing before
    x2 = x.clone()
    x2[:, :, 6] += 1
    with torch.no_grad():
        diff = (fe(x2) - y).abs().amax(dim=(0, 1, 3, 4))
    assert (diff[:4] == 0).all() and (diff[4:] > 0).all()


def test_video_resnet18_gives_512_per_frame():
    net = create_model("video_resnet18")
    assert isinstance(net, VideoResNet) and net.out_dim == 512
    with torch.no_grad():
        y = net.eval()(torch.rand(1, 1, 3, 88, 88))
    assert y.shape == (1, 3, 512)
    assert net.input_spec == "(B, 1, 29, 88, 88)"


@pytest.mark.parametrize("t", [1, 2, 5])
def test_any_clip_length_is_kept(t):
    for name in ("video_resnet_tiny", "video_densenet3d_tiny", "video_framewise"):
        net = create_model(name).eval()
        with torch.no_grad():
            assert net(torch.rand(2, 1, t, 32, 32)).shape == (2, t, net.out_dim)


def test_framewise_runs_frames_independently():
    backbone = create_model("resnet_tiny", in_chans=1, num_classes=0).eval()
    net = FrameWise(backbone).eval()
    x = torch.rand(2, 1, 3, 32, 32)
    with torch.no_grad():
        y = net(x)
        for t in range(3):
            torch.testing.assert_close(y[:, t], backbone(x[:, :, t]))
        torch.testing.assert_close(FrameWise(backbone, chunk=2)(x), y)


def test_framewise_wraps_any_registered_backbone():
    net = create_model("video_framewise", backbone="densenet_tiny", in_chans=3)
    assert net.out_dim == net.backbone.num_features == 16
    assert net(torch.rand(1, 3, 2, 32, 32)).shape == (1, 2, 16)


def test_video_densenet3d_keeps_time_pools_space():
    net = create_model("video_densenet3d_tiny").eval()
    x = torch.rand(1, 1, 6, 32, 32)
    with torch.no_grad():
        maps = net.net.forward_features(x)
    assert maps.shape[2] == 6 and maps.shape[-1] == 1  # T kept, 32 / 32 in space
    assert net.out_dim == maps.shape[1]
