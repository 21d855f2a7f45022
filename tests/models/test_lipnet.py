"""LipNet: exact parameter count, shapes and lengths, gradients, padding isolation, CTC loss."""

from __future__ import annotations

import pytest
import torch

from lipread.errors import ConfigError
from lipread.models import create_model, list_models
from lipread.models.ctc import ctc_loss
from lipread.models.lipnet import LipNet, LipNetConfig
from lipread.text import Tokenizer


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registered():
    assert {"lipnet", "lipnet_small", "lipnet_tiny", "lipnet_resnet", "lipnet_resnet_tiny"} <= set(list_models("lipnet*"))


def test_paper_parameter_count():
    # Input 3 x 75 x 50 x 100, GRID vocabulary: 26 letters + space + blank = 28 outputs.
    # conv1 3->32 3x5x5:   3*32*75 + 32  =     7,232   (H,W 50x100 -> s2 25x50 -> pool 12x25)
    # conv2 32->64 3x5x5: 32*64*75 + 64  =   153,664   (12x25 -> pool 6x12)
    # conv3 64->96 3x3x3: 64*96*27 + 96  =   165,984   (6x12 -> pool 3x6)  => GRU input 96*3*6 = 1728
    # GRU1 per direction 3*(256*1728 + 256*256 + 2*256) = 1,525,248  x2 = 3,050,496
    # GRU2 per direction 3*(256*512  + 256*256 + 2*256) =   591,360  x2 = 1,182,720
    # linear 512*28 + 28                                =    14,364
    # total                                             = 4,574,460
    model = create_model("lipnet")
    assert model.config.rnn_input_size == 96 * 3 * 6
    assert model.config.output_size == Tokenizer.from_name("grid").ctc_size == 28
    assert n_params(model) == 4_574_460


def test_paper_shapes_and_lengths():
    model = create_model("lipnet").eval()
    x = torch.rand(2, 3, 75, 50, 100)
    with torch.no_grad():
        log_probs, out_lengths = model(x, torch.tensor([75, 40]))
    assert log_probs.shape == (2, 75, 28) and log_probs.dtype == torch.float32
    assert out_lengths.tolist() == [75, 40] and out_lengths.dtype == torch.int64
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(2, 75), atol=1e-4)


def test_output_lengths_follow_config():
    cfg = LipNetConfig(
        in_chans=1,
        input_size=(24, 48),
        channels=(4, 4, 4),
        rnn_size=8,
        rnn_layers=1,
        pool=(2, 2, 2),
        paddings=((1, 2, 2), (1, 2, 2), (1, 1, 1)),
    )
    model = LipNet(cfg).eval()
    with torch.no_grad():
        lp, lens = model(torch.rand(2, 1, 40, 24, 48), torch.tensor([40, 17]))
    # each temporal pool of 2 halves T: 40 -> 20 -> 10 -> 5 ; 17 -> 8 -> 4 -> 2
    assert lp.shape[1] == 5 and lens.tolist() == [5, 2]


def test_every_parameter_gets_a_gradient():
    model = create_model("lipnet_tiny").train()
    x = torch.rand(3, 1, 20, 24, 48)
    lp, lens = model(x, torch.tensor([20, 15, 12]))
    targets = torch.tensor([[2, 3, 4], [5, 6, 0], [7, 0, 0]])
    loss = ctc_loss(lp, lens, targets, torch.tensor([3, 2, 1]))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"parameters without gradient: {missing}"


def test_padding_does_not_leak():
    """A clip's outputs do not depend on the zero padding appended to it in a batch."""
    model = create_model("lipnet_tiny", batch_norm=False).eval()
    torch.manual_seed(0)
    clip = torch.rand(1, 1, 12, 24, 48)
    with torch.no_grad():
        alone, _ = model(clip, torch.tensor([12]))
        padded = torch.cat([clip, torch.zeros(1, 1, 8, 24, 48)], dim=2)
        other = torch.rand(1, 1, 20, 24, 48)
        batch, lens = model(torch.cat([padded, other]), torch.tensor([12, 20]))
    assert lens.tolist() == [12, 20]
    # the last frame's temporal conv sees zeros either way (conv padding vs data padding)
    assert torch.allclose(batch[0, :12], alone[0], atol=1e-5)


def test_lipnet_resnet_head_count_shapes_and_gradients():
    # the BiGRU/CTC head on 512-d ResNet-18 features:
    # 2 layers x 2 directions: 3*(256*512 + 256*256 + 2*256) * 2 * 2 = 2,365,440 ; linear 512*28 + 28 = 14,364
    model = create_model("lipnet_resnet")
    assert n_params(model) == n_params(create_model("video_resnet18")) + 2_365_440 + 14_364
    tiny = create_model("lipnet_resnet_tiny").train()
    lp, lens = tiny(torch.rand(2, 1, 12, 32, 32), torch.tensor([12, 7]))
    assert lp.shape == (2, 12, 28) and lens.tolist() == [12, 7]
    ctc_loss(lp, lens, torch.tensor([[2, 3], [4, 0]]), torch.tensor([2, 1])).backward()
    missing = [n for n, p in tiny.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"parameters without gradient: {missing}"
    tiny.eval()
    clip = torch.rand(1, 1, 7, 32, 32)
    with torch.no_grad():
        alone, _ = tiny(clip, torch.tensor([7]))
        batch, _ = tiny(torch.cat([torch.cat([clip, torch.zeros(1, 1, 5, 32, 32)], 2), torch.rand(1, 1, 12, 32, 32)]),
                        torch.tensor([7, 12]))
    assert torch.allclose(batch[0, :7], alone[0], atol=1e-5)


@pytest.mark.parametrize("name", ["lipnet_tiny", "lipnet_resnet_tiny"])
def test_checkpoint_round_trip(tmp_path, name):
    from lipread.models.checkpoint import load_model, save_model

    args = {"channels": (4, 8, 8), "kernels": ((3, 5, 5), (3, 5, 5), (3, 3, 3))} if name == "lipnet_tiny" else {}
    model = create_model(name, **args).eval()
    x = torch.rand(1, 1, 9, *((24, 48) if name == "lipnet_tiny" else (32, 32)))
    save_model(tmp_path / "ckpt", model, {"tokenizer": Tokenizer.from_name("grid").to_dict()})
    loaded, config = load_model(tmp_path / "ckpt")
    with torch.no_grad():
        assert torch.allclose(model(x)[0], loaded(x)[0], atol=1e-6)


def test_sizes_are_configurable():
    model = create_model(
        "lipnet",
        gray=True,
        input_size=(64, 128),
        channels=(8, 8, 8),
        rnn_size=16,
        rnn_layers=3,
        num_classes=40,
    )
    assert model.config.in_chans == 1 and model.config.rnn_input_size == 8 * 4 * 8
    with torch.no_grad():
        lp, _ = model.eval()(torch.rand(1, 1, 10, 64, 128))
    assert lp.shape == (1, 10, 40)


def test_bad_config_is_a_config_error():
    with pytest.raises(ConfigError):
        create_model("lipnet", channels=(8, 8))
    with pytest.raises(ConfigError):
        create_model("lipnet", input_size=(4, 4))
    with pytest.raises(ConfigError):
        create_model("lipnet", no_such_key=1)


def test_ctc_loss_matches_torch_and_per_clip():
    torch.manual_seed(1)
    lp = torch.randn(2, 10, 5).log_softmax(-1)
    tg = torch.tensor([[1, 2, 3], [4, 0, 0]])
    lens, tl = torch.tensor([10, 7]), torch.tensor([3, 1])
    ref = torch.nn.functional.ctc_loss(lp.transpose(0, 1), tg, lens, tl, reduction="none")
    assert torch.allclose(ctc_loss(lp, lens, tg, tl, reduction="none"), ref)
    assert torch.allclose(ctc_loss(lp, lens, tg, tl, reduction="per_clip"), ref.mean())
    # an impossible target (longer than the clip) is zeroed, not inf
    assert (
        ctc_loss(lp, torch.tensor([2, 7]), torch.tensor([[1, 2, 3], [4, 0, 0]]), tl, reduction="none")[0] == 0
    )


@pytest.mark.grid
@pytest.mark.slow
def test_tiny_lipnet_overfits_real_grid_clips(grid_dir, grid_clips):
    """5 real GRID clips through the real front end: CTC loss falls tenfold, greedy reads them exactly.

    ~30-40 s on 2 idle cores (mouths downscaled to 24x48 gray for speed).
    """
    import torch.nn.functional as F

    from lipread.data.corpora.grid import parse_align
    from lipread.decoding import build_decoder
    from lipread.frontend import FrontEnd, FrontEndConfig

    torch.manual_seed(0)
    tok = Tokenizer.from_name("grid")
    clips = grid_clips[:: len(grid_clips) // 5][:5]  # spread over the corpus: different sentences
    front = FrontEnd(FrontEndConfig(gray=True))
    videos, texts = [], []
    for path in clips:
        mouth = torch.from_numpy(front.process(path).mouth).float().div(255).permute(3, 0, 1, 2)  # (1, T, 50, 100)
        videos.append(F.interpolate(mouth, size=(24, 48), mode="area"))
        texts.append(" ".join(w.word for w in parse_align(grid_dir / "alignments" / "s1" / f"{path.stem}.align")))
    front.close()
    x = torch.stack(videos)  # (5, 1, 75, 24, 48)
    lengths = torch.full((len(clips),), x.shape[2])
    ids = [tok.encode(t) for t in texts]
    target_lengths = torch.tensor([len(t) for t in ids])
    targets = torch.zeros(len(ids), int(target_lengths.max()), dtype=torch.int64)
    for i, t in enumerate(ids):
        targets[i, : len(t)] = torch.tensor(t)

    model = create_model("lipnet_tiny", rnn_size=128)
    steps = 300
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-2, total_steps=steps, pct_start=0.15)
    greedy = build_decoder("greedy", tok)
    first = last = None
    hyps: list[str] = []
    for step in range(steps):
        model.train()
        log_probs, out_lengths = model(x, lengths)
        loss = ctc_loss(log_probs, out_lengths, targets, target_lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        first = first if first is not None else loss.item()
        last = loss.item()
        if step >= 100 and step % 20 == 0:
            model.eval()
            with torch.no_grad():
                hyps = [h[0].text for h in greedy.decode(*model(x, lengths))]
            if hyps == texts and first / last >= 10:
                break
    assert first / last >= 10, f"loss only fell from {first:.3f} to {last:.3f}"
    assert hyps == texts


def test_align_head_shapes_and_gradients():
    from lipread.train.objectives import align_loss

    model = create_model("lipnet_tiny", align_head=True).train()
    assert model.has_align_head and not create_model("lipnet_tiny").has_align_head
    x = torch.rand(2, 1, 20, 24, 48)
    lp, lens, align = model(x, torch.tensor([20, 15]), return_align=True)
    assert align.shape == lp.shape == (2, 20, 28)
    assert torch.allclose(align.exp().sum(-1), torch.ones(2, 20), atol=1e-5)
    labels = torch.randint(0, 28, (2, 20))
    labels[1, 15:] = -100
    targets = torch.tensor([[2, 3, 4], [5, 6, 0]])
    loss = ctc_loss(lp, lens, targets, torch.tensor([3, 2])) + align_loss(align, labels)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"parameters without gradient: {missing}"
    # without return_align the contract is unchanged; a model without the head refuses it
    assert len(model(x)) == 2
    with pytest.raises(ValueError, match="align head"):
        create_model("lipnet_tiny")(x, return_align=True)


def test_init_from_loads_matching_weights_and_names_new_heads(tmp_path):
    from lipread.errors import CheckpointError
    from lipread.models.checkpoint import init_from, save_model

    src = create_model("lipnet_tiny")
    save_model(tmp_path / "src", src)
    dst = create_model("lipnet_tiny", align_head=True)
    fresh = init_from(dst, tmp_path / "src")
    assert sorted(fresh) == ["head.align_fc.bias", "head.align_fc.weight"]
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k
    with pytest.raises(CheckpointError, match="do not fit"):
        init_from(create_model("lipnet_tiny", rnn_size=16), tmp_path / "src")
