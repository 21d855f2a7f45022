"""The generic registry and the config helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lipread.config import apply_overrides, build_config, config_to_dict, load_yaml
from lipread.errors import ConfigError, InputFileError
from lipread.registry import Registry


def test_registry_register_get_list_and_duplicates():
    reg: Registry = Registry("thing")

    @reg.register("alpha")
    def alpha():
        return 1

    reg.register("beta")(lambda: 2)
    assert reg.get("alpha") is alpha and reg.list() == ["alpha", "beta"] and reg.list("a*") == ["alpha"]
    with pytest.raises(ValueError, match="already registered"):
        reg.register("alpha")(lambda: 3)
    with pytest.raises(ConfigError, match="alpha"):
        reg.get("alpah")


@dataclass
class Optim:
    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)


@dataclass
class Cfg:
    name: str = "x"
    steps: int = 10
    optim: Optim = field(default_factory=Optim)


def test_build_config_nested_and_overrides():
    data = {"name": "y", "optim": {"lr": 1}}
    apply_overrides(data, ["steps=20", "optim.betas=[0.8, 0.9]"])
    cfg = build_config(Cfg, data)
    assert cfg.steps == 20 and cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.optim.betas == (0.8, 0.9)
    assert config_to_dict(cfg) == {"name": "y", "steps": 20, "optim": {"lr": 1.0, "betas": [0.8, 0.9]}}


def test_unknown_key_suggests_close_match():
    with pytest.raises(ConfigError, match=r"optim\.lr"):
        build_config(Cfg, {"optim": {"lrr": 1}})
    with pytest.raises(ConfigError):
        apply_overrides({}, ["no-equals-sign"])


def test_load_yaml_errors(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(bad)
    good = tmp_path / "good.yaml"
    good.write_text("a: 1\nb: {c: 2}\n")
    assert load_yaml(good) == {"a": 1, "b": {"c": 2}}


def test_numbers_in_exponent_form_are_numbers():
    # YAML 1.1 reads 1e-4 (no dot) as a string; a float key takes it as the number it is, a word stays an error
    from lipread.train.config import load_train_config

    cfg = load_train_config(None, ["optim.lr=1e-4", "optim.weight_decay=2E-2"])
    assert cfg.optim.lr == 1e-4 and cfg.optim.weight_decay == 0.02
    with pytest.raises(ConfigError, match="optim.lr must be a number"):
        load_train_config(None, ["optim.lr=fast"])
