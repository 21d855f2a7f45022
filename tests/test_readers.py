"""The readers (lipread.readers): one per model family, chosen from the model; align-head realignment, flip
averaging, a batch read as each clip alone, option checks."""

from __future__ import annotations

import math

import numpy as np
import torch

from lipread.models import create_model
from lipread.readers import reader_for
from lipread.readers.ctc import run_model
from lipread.readers.options import DecodeOptions
from lipread.text import Tokenizer

TOK = Tokenizer.from_name("grid")


def _model(**kw):
    torch.manual_seed(0)
    return create_model("lipnet_tiny", **kw).eval()


def test_flip_average_is_the_mean_of_both_posteriors():
    model = _model(align_head=True)
    x, lens = torch.rand(2, 1, 12, 24, 48), torch.tensor([12, 9])
    with torch.no_grad():
        lp, out_lens, align = run_model(model, x, lens, flip_average=True)
        a, b = run_model(model, x, lens), run_model(model, x.flip(-1), lens)
    expected = torch.log((a[0].exp() + b[0].exp()) / 2)
    assert torch.allclose(lp, expected, atol=1e-5) and torch.equal(out_lens, a[1])
    assert torch.allclose(align, torch.log((a[2].exp() + b[2].exp()) / 2), atol=1e-5)
    assert math.isclose(float(lp.exp().sum(-1).mean()), 1.0, rel_tol=1e-5)


def test_batch_decodes_as_each_clip_alone_with_align_times_inside_the_clip():
    model = _model(align_head=True)
    reader = reader_for(model, TOK, DecodeOptions(decoder="greedy"))
    clips = [torch.rand(1, 1, n, 24, 48) for n in (16, 11)]
    batch = torch.zeros(2, 1, 16, 24, 48)
    batch[0], batch[1, :, :11] = clips[0][0], clips[1][0]
    together = reader.read(batch, torch.tensor([16, 11]), time_offset=[0.0, 5.0]).nbests
    for i, clip in enumerate(clips):
        alone = reader.read(clip, torch.tensor([clip.shape[2]]), time_offset=5.0 * i).nbests
        assert together[i][0].text == alone[0][0].text
        assert [(w.start, w.end) for w in together[i][0].words] == [(w.start, w.end) for w in alone[0][0].words]
        for w in together[i][0].words:  # realigned times stay inside the clip
            assert 5.0 * i <= w.start < w.end <= 5.0 * i + clip.shape[2] * 0.04 + 1e-9
            assert w.confidence is not None and 0.0 <= w.confidence <= 1.0


def test_realign_moves_words_to_where_the_align_head_puts_them():
    from lipread.decoding.align import align_words
    from lipread.readers.ctc import realign
    from lipread.types import Hypothesis, WordSpan

    labels = np.zeros(30, dtype=np.int64)
    labels[10:13] = TOK.encode("a")[0]
    labels[20:25] = TOK.encode("o")[0]
    lp = np.full((30, TOK.ctc_size), -20.0)
    lp[np.arange(30), labels] = 0.0
    hyp = Hypothesis("a o", TOK.encode("a o"), 0.0, [WordSpan("a", 0.0, 0.04, 0.9), WordSpan("o", 0.04, 0.08, 0.8)])
    realign(hyp, lp, TOK, 0.04, 1.0)
    assert [(w.start, w.end) for w in hyp.words] == [(1.4, 1.52), (1.8, 2.0)]
    assert [w.confidence for w in hyp.words] == [0.9, 0.8]  # confidences are kept
    assert align_words(lp, ["a", "o"], TOK.encode, 0.04, 1.0)[0].start == 1.4


def test_the_reader_is_chosen_by_the_models_family_and_checks_its_options():
    import pytest

    from lipread.errors import UsageError
    from lipread.readers.attention import AttentionReader
    from lipread.readers.ctc import CTCReader

    ctc = _model()
    assert type(reader_for(ctc, TOK)) is CTCReader and reader_for(ctc, TOK).modalities == ("video",)
    torch.manual_seed(0)
    wlas = create_model("wlas_tiny").eval()
    assert type(reader_for(wlas, TOK)) is AttentionReader and set(reader_for(wlas, TOK).modalities) == {"av", "video", "audio"}
    with pytest.raises(UsageError, match="apply only to attention models"):
        reader_for(ctc, TOK, DecodeOptions(decoder="beam", ctc_weight=0.3))
    with pytest.raises(UsageError, match="apply only to CTC models"):
        AttentionReader(ctc, TOK, DecodeOptions(decoder="beam", lm="x.arpa"))
    # the lips' own reading comes back with the hypotheses: the CTC model's posteriors of the same pass
    x, lens = torch.rand(2, 1, 12, 24, 48), torch.tensor([12, 9])
    reading = reader_for(ctc, TOK, DecodeOptions(decoder="greedy", flip_average=True)).read(x, lens)
    expected, expected_lens, _ = run_model(ctc, x, lens, flip_average=True)
    assert torch.allclose(reading.lips[0], expected, atol=1e-6) and torch.equal(reading.lips[1], expected_lens)
    assert len(reading.nbests) == 2
