"""pyproject.toml's ranges and constraints.txt's tested set agree: every lower bound is the tested pin.

CI installs constraints.txt, so the lowest versions pyproject.toml claims are the ones CI runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
packaging = pytest.importorskip("packaging.requirements")

REPO = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            out[canonical(name)] = version
    return out


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def requirements() -> list:
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    return [Requirement(d) for d in deps]


def test_every_dependency_is_a_range_whose_lower_bound_is_the_tested_pin():
    from packaging.version import Version

    pinned = pins()
    for req in requirements():
        ops = {s.operator: s.version for s in req.specifier}
        assert ">=" in ops and "<" in ops and "==" not in ops, f"{req}: give a range, >=tested,<next"
        name = canonical(req.name)
        assert name in pinned, f"{req.name} is not pinned in constraints.txt"
        assert Version(ops[">="]) == Version(pinned[name]), f"{req}: lower bound is not the tested {pinned[name]}"
        assert req.specifier.contains(pinned[name], prereleases=True)


def test_the_makefile_installs_with_the_constraints():
    makefile = (REPO / "Makefile").read_text()
    assert "-c constraints.txt" in makefile and "$(STAMP): pyproject.toml constraints.txt" in makefile
    assert "make test" in (REPO / ".ci" / "run").read_text()
