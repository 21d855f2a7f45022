"""Out-of-domain warnings: each measure warns outside its range and is silent inside it."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.pipelines.domain import domain_warnings, mouth_stats, widened_range

DOMAIN = {"motion": [1.0, 4.0], "brightness": [110.0, 160.0], "confidence_floor": 0.5,
          "direction_margin": 0.05, "min_seconds": 2.9}
NORMAL = {"motion": 2.2, "brightness": 135.0}


def test_inside_the_domain_no_warning():
    assert domain_warnings(DOMAIN, NORMAL, 0.8, (0.8, 0.6), 3.0) == []
    assert domain_warnings(None, {"motion": 0.0}, 0.0) == []  # a model without a domain section


def test_each_measure_warns_with_its_value_and_range():
    still = domain_warnings(DOMAIN, {"motion": 0.01, "brightness": 135.0}, 0.8)
    assert len(still) == 1 and "barely moves" in still[0] and "0.01" in still[0] and "1.00-4.00" in still[0]
    bright = domain_warnings(DOMAIN, {"motion": 2.0, "brightness": 174.0}, 0.8)
    assert len(bright) == 1 and "brighter" in bright[0] and "174.00" in bright[0]
    low = domain_warnings(DOMAIN, NORMAL, 0.3)
    assert len(low) == 1 and "low confidence 0.30" in low[0]
    backwards = domain_warnings(DOMAIN, NORMAL, 0.8, (0.6, 0.8))
    assert len(backwards) == 1 and "backwards" in backwards[0]
    short = domain_warnings(DOMAIN, NORMAL, 0.8, None, 1.0)
    assert len(short) == 1 and "1.00 s" in short[0]
    # a long file read in windows has no single-clip length to check
    assert domain_warnings(DOMAIN, NORMAL, 0.8, None, None) == []


def test_mouth_stats_and_ranges():
    still = np.full((10, 4, 4, 3), 120, np.uint8)
    assert mouth_stats(still) == {"motion": 0.0, "brightness": 120.0}
    moving = np.stack([np.full((4, 4, 3), v, np.uint8) for v in [100, 110] * 5])
    assert mouth_stats(moving)["motion"] == 10.0
    lo, hi = widened_range(list(range(101)))
    assert lo < 0.5 and hi > 99.5 and np.isclose(hi - lo, 2 * 99.0)


def test_each_modality_has_its_own_confidence_floor():
    domain = {**DOMAIN, "confidence_floor": 0.5, "confidence_floors": {"video": 0.5, "av": 0.75, "audio": 0.7}}
    assert domain_warnings(domain, NORMAL, 0.6, modality="video") == []
    low = domain_warnings(domain, NORMAL, 0.6, modality="av")
    assert len(low) == 1 and "low confidence 0.60" in low[0] and "0.75" in low[0]
    assert domain_warnings(domain, NORMAL, 0.6) == []  # no modality: the (lowest) lips-only floor


@pytest.mark.parametrize("flip_average", [False, True])
def test_the_direction_check_reuses_the_attention_models_lip_reading(flip_average):
    """WLAS: the lip encoder's forward CTC reading taken from the decode pass equals running the encoder
    again for the check (so transcribe runs it two times fewer a batch with flip averaging)."""
    import numpy as np
    import torch

    from lipread.data.batch import collate
    from lipread.data.dataset import Sample
    from lipread.pipelines.transcribe import load_model
    from lipread.readers import reader_for
    from lipread.readers.ctc import run_model
    from lipread.readers.options import DecodeOptions

    loaded = load_model("wlas-grid-s1")
    rng = np.random.default_rng(0)
    mouths = [rng.integers(0, 256, (n, 50, 100, 3), dtype=np.uint8) for n in (75, 60)]
    batch = collate([Sample(str(i), "", "", m, []) for i, m in enumerate(mouths)])
    options = DecodeOptions(decoder="greedy", flip_average=flip_average)
    reader = reader_for(loaded.model, loaded.tokenizer, options)
    ours, lens = reader.read(batch.video, batch.video_lengths, modality="video").lips
    assert reader.lip_model() is loaded.model.watch
    with torch.no_grad():
        ref, ref_lens, _ = run_model(loaded.model.watch, batch.video, batch.video_lengths, flip_average)
    assert torch.equal(lens, ref_lens)
    for i, n in enumerate(lens.tolist()):
        assert torch.allclose(ours[i, :n], ref[i, :n], atol=1e-4), (ours[i, :n] - ref[i, :n]).abs().max()
