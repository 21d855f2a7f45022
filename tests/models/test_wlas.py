"""WLAS: shapes, gradients, modalities, the attention decoders, checkpoints (no data needed)."""

from __future__ import annotations

import pytest
import torch

from lipread.decoding.attention import beam_search, greedy_search
from lipread.errors import CheckpointError, ConfigError
from lipread.models import create_model, list_models
from lipread.models.checkpoint import init_from, load_model, save_model
from lipread.text import Tokenizer

TOK = Tokenizer.from_name("grid")


def inputs(b=3, t=(12, 9, 6), seed=0):
    g = torch.Generator().manual_seed(seed)
    tmax = max(t)
    video = torch.rand((b, 1, tmax, 24, 48), generator=g)
    audio = torch.randn((b, 4 * tmax, 39), generator=g)
    vl = torch.tensor(t[:b])
    for i, n in enumerate(t[:b]):  # padding is zero, as collate makes it
        video[i, :, n:] = 0
        audio[i, 4 * n:] = 0
    texts = ["bin blue", "at f", "now"][:b]
    ids = [TOK.encode(x) for x in texts]
    targets = torch.zeros((b, max(map(len, ids))), dtype=torch.int64)
    for i, x in enumerate(ids):
        targets[i, : len(x)] = torch.tensor(x)
    return video, vl, audio, 4 * vl, targets, torch.tensor([len(x) for x in ids])


def tiny(**kw):
    torch.manual_seed(0)
    return create_model("wlas_tiny", **kw)


def test_registered_and_sized():
    assert {"wlas", "wlas_tiny"} <= set(list_models("wlas*"))
    full = create_model("wlas")
    n = sum(p.numel() for p in full.parameters())
    assert 3e6 < n < 8e6, n  # fp16 weights stay well under the zoo's 20 MB
    assert full.config.audio_dim == 39 and full.watch.config.in_chans == 3


def test_forward_losses_and_every_parameter_gets_a_gradient():
    model = tiny(p_video_only=0.3, p_audio_only=0.3)
    model.train()
    video, vl, audio, al, targets, tl = inputs()
    labels = torch.randint(0, TOK.ctc_size, (3, video.shape[2]))
    parts = model(video, vl, audio, al, targets, tl, labels, align_weight=0.5, progress=0.5)
    assert set(parts) >= {"loss", "att", "ctc_video", "ctc_audio", "align"}
    assert torch.isfinite(parts["loss"]) and parts["loss"].dim() == 0
    parts["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
    assert not missing, missing


def test_frozen_watch_gets_no_gradient_and_stays_in_eval_mode():
    model = tiny(freeze_watch=True)
    model.train()
    assert not model.watch.training and model.listen.training
    video, vl, audio, al, targets, tl = inputs()
    model(video, vl, audio, al, targets, tl)["loss"].backward()
    assert all(p.grad is None for p in model.watch.parameters())
    assert all(not p.requires_grad for p in model.watch.parameters())


def test_encoders_keep_the_frame_rate_and_modalities_select_streams():
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs()
    enc, extras = model.encode(video, vl, audio, al, "av")
    assert extras["video_states"].shape[:2] == (3, 12) and extras["audio_states"].shape[:2] == (3, 12)
    assert extras["audio_lengths"].tolist() == vl.tolist()
    enc_v, _ = model.encode(video, vl, None, None, "video")
    assert enc_v.audio is None and enc_v.use_audio.sum() == 0
    enc_a, _ = model.encode(None, None, audio, al, "audio")
    assert enc_a.video is None and enc_a.use_video.sum() == 0
    with pytest.raises(ValueError, match="needs audio"):
        model.encode(video, vl, None, None, "av")
    with pytest.raises(ValueError, match="modality"):
        model.encode(video, vl, audio, al, "lips")
    # the decoder's first step differs between modalities: each stream is read
    outs = []
    for e in (enc, enc_v, enc_a):
        logits, *_ = model.step(e, torch.full((3,), TOK.sos_id), model.init_state(e))
        outs.append(logits)
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])


@pytest.mark.parametrize("modality", ["av", "video", "audio"])
def test_beam_of_one_equals_greedy(modality):
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs(seed=1)
    enc, _ = model.encode(video, vl, audio, al, modality)
    g = greedy_search(model, enc, TOK.sos_id, TOK.eos_id, max_len=20)
    b = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=1, max_len=20)
    for gr, (br,) in zip(g, b):
        assert gr.tokens == br.tokens and gr.ended == br.ended
        assert gr.score == pytest.approx(br.score, abs=1e-5)


def test_beam_search_finds_at_least_the_greedy_score_and_ranks_nbest():
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs(seed=2)
    enc, _ = model.encode(video, vl, audio, al, "av")
    g = greedy_search(model, enc, TOK.sos_id, TOK.eos_id, max_len=8)
    nb = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=6, max_len=8, nbest=3)
    for gr, hyps in zip(g, nb):
        assert hyps[0].score >= gr.score - 1e-5 or not gr.ended
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)


def test_a_batch_decodes_as_each_utterance_alone():
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs(seed=3)
    enc, _ = model.encode(video, vl, audio, al, "av")
    together = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, max_len=12)
    for i in range(3):
        n = int(vl[i])
        e, _ = model.encode(video[i : i + 1, :, :n], vl[i : i + 1], audio[i : i + 1, : 4 * n], al[i : i + 1], "av")
        (alone,) = beam_search(model, e, TOK.sos_id, TOK.eos_id, beam=4, max_len=12)
        assert alone[0].tokens == together[i][0].tokens
        assert alone[0].score == pytest.approx(together[i][0].score, abs=1e-4)


def test_checkpoint_round_trip(tmp_path):
    model = tiny().eval()
    save_model(tmp_path / "m", model, {"tokenizer": TOK.to_dict()})
    loaded, config = load_model(tmp_path / "m")
    assert config["model"]["name"] == "wlas_tiny"
    video, vl, audio, al, *_ = inputs()
    a, _ = model.encode(video, vl, audio, al, "av")
    b, _ = loaded.encode(video, vl, audio, al, "av")
    ra = greedy_search(model, a, TOK.sos_id, TOK.eos_id, max_len=10)
    rb = greedy_search(loaded, b, TOK.sos_id, TOK.eos_id, max_len=10)
    assert [r.tokens for r in ra] == [r.tokens for r in rb]
    torch.testing.assert_close(a.audio, b.audio)


def test_watch_starts_from_a_lipnet_checkpoint(tmp_path):
    lipnet = create_model("lipnet_tiny", align_head=True, num_classes=TOK.ctc_size)
    save_model(tmp_path / "lipnet", lipnet, {"tokenizer": TOK.to_dict()})
    model = tiny()
    fresh = init_from(model, tmp_path / "lipnet")
    assert fresh and all(not k.startswith("watch.") for k in fresh)
    torch.testing.assert_close(model.watch.head.fc.weight, lipnet.head.fc.weight)
    other = create_model("lipnet_small")
    save_model(tmp_path / "other", other, {"tokenizer": TOK.to_dict()})
    with pytest.raises(CheckpointError, match="do not fit"):
        init_from(tiny(), tmp_path / "other")


def test_bad_configs():
    with pytest.raises(ConfigError, match="LipNet variant"):
        create_model("wlas_tiny", watch="resnet18")
    with pytest.raises(ConfigError, match="at most 1"):
        create_model("wlas_tiny", p_video_only=0.7, p_audio_only=0.6)
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs()
    with pytest.raises(ValueError, match="39 audio features"):
        model.encode(video, vl, audio[..., :13], al, "av")


def test_flip_average_encodes_the_mean_of_the_clip_and_its_mirror():
    model = tiny().eval()
    video, vl, audio, al, *_ = inputs(seed=2)
    with torch.no_grad():
        a, la = model.encode_video(video, vl)
        b, _ = model.encode_video(video.flip(-1), vl)
        m, lm = model.encode_video(video, vl, flip_average=True)
        enc, extras = model.encode(video, vl, audio, al, "av", flip_average=True)
    assert not torch.allclose(a, b)  # a mirrored clip is read differently, so the mean is a real change
    assert torch.allclose(m, (a + b) / 2, atol=1e-6) and lm.tolist() == la.tolist()
    assert torch.allclose(extras["video_states"], m, atol=1e-6)
    # the attention decoder reads the averaged states
    from lipread.readers.attention import AttentionReader
    from lipread.readers.options import DecodeOptions

    opts = dict(decoder="beam", beam_size=2, length_norm=0.0, ctc_weight=0.0, grammar=None)
    with torch.no_grad():
        plain = AttentionReader(model, TOK, DecodeOptions(**opts, flip_average=False)).read(video, vl, audio, al, "av").nbests
        flipped = AttentionReader(model, TOK, DecodeOptions(**opts, flip_average=True)).read(video, vl, audio, al, "av").nbests
        expected = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=2)
    assert [h[0].text for h in flipped] == [TOK.decode(r[0].tokens) for r in expected]
    assert [h[0].score for h in flipped] != [h[0].score for h in plain]


def test_checkpoint_averaging(tmp_path):
    from lipread.models.checkpoint import average_checkpoints, load_state, read_config

    a, b = tiny(), tiny()
    with torch.no_grad():
        for p in b.parameters():
            p.add_(1.0)
    pa, pb = save_model(tmp_path / "a", a), save_model(tmp_path / "b", b)
    out = average_checkpoints([pa, pb], tmp_path / "avg")
    mean, sa, sb = load_state(out), load_state(pa), load_state(pb)
    name = next(k for k, v in sa.items() if v.is_floating_point() and not torch.equal(v, sb[k]))
    assert torch.allclose(mean[name], (sa[name] + sb[name]) / 2, atol=1e-6)
    assert read_config(out)["averaged_from"] == [str(pa), str(pb)]
    model, _ = load_model(out)  # the mean loads as the same model
    assert isinstance(model, type(a))
    other = create_model("wlas_tiny", decoder_size=32)
    with pytest.raises(CheckpointError, match="different model"):
        average_checkpoints([pa, save_model(tmp_path / "c", other)], tmp_path / "bad")
