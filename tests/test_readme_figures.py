"""Every measured figure in the README's tables comes from a results JSON (issue 27: "a test fails when a README
figure has no matching value in a results JSON").

A table's sources are the results files (``*.json`` under ``benchmarks/results/``, ``pipelines/*/results/`` or a
zoo model's ``config.json``) named in its own row, or else in the prose of its section (since the heading
above it). Every decimal number in a row (``0.49``, ``12.5%``, ``1.66×``) must equal, to the digits shown, a
number in those files, as it is or as a percentage (a WER of 0.125 is "12.5%"). Whole numbers (counts, sizes,
settings) are not checked. A figure derived from the JSON rather than stored in it is listed in ``DERIVED``
with how it is derived.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JSON_NAME = re.compile(r"([\w.-]+\.json)")
DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.])")
DERIVED = {
    # (a figure, a few words of its row): how it follows from the JSON it cites
    ("3.7", "LRS3 recipe model"): "MB a frame: the slope between lrs_scale.json's 75- and 600-frame points",
}


def results_files() -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for path in [*REPO.glob("benchmarks/results/*.json"), *REPO.glob("pipelines/*/results/*.json"),
                 *REPO.glob("models/*/config.json")]:
        files.setdefault(path.name, []).append(path)
    return files


def numbers(paths: list[Path]) -> list[float]:
    out: list[float] = []

    def walk(x) -> None:
        if isinstance(x, bool):
            return
        if isinstance(x, (int, float)):
            out.append(float(x))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for path in paths:
        walk(json.loads(path.read_text()))
    return out


def tables(text: str):
    """(first line number, rows [(line number, row)], the prose of its section before it) per table."""
    found, prose, current = [], [], None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("|"):
            if current is None:
                current = (n, [], " ".join(prose))
                found.append(current)
            current[1].append((n, line))
            continue
        current = None
        if line.startswith("#"):
            prose = []
        prose.append(line)
    return found


def unmatched(text: str, files: dict[str, list[Path]]) -> list[str]:
    problems = []
    for _start, rows, context in tables(text):
        for n, row in rows:
            if set(row) <= set("|-: "):
                continue
            names = JSON_NAME.findall(row) or JSON_NAME.findall(context)
            paths = [p for name in names for p in files.get(name, [])]
            figures = DECIMAL.findall(row)
            if not figures:
                continue
            if not paths:
                problems.append(f"README.md:{n}: figures {figures} in a table that names no results JSON")
                continue
            values = numbers(paths)
            for figure in figures:
                if any(figure == f and words in row for f, words in DERIVED):
                    continue
                v, half = float(figure), 0.5 * 10 ** -len(figure.split(".")[1]) + 1e-9
                if not any(abs(x - v) <= half or abs(100 * x - v) <= half for x in values):
                    problems.append(f"README.md:{n}: {figure} is in none of {names}")
    return problems


def test_every_readme_table_figure_is_in_its_results_json():
    problems = unmatched((REPO / "README.md").read_text(), results_files())
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_figure_that_is_not_in_its_json(tmp_path):
    results = tmp_path / "demo.json"
    results.write_text(json.dumps({"wer": 0.125, "latency": {"median": 0.486}}))
    files = {"demo.json": [results]}
    good = "## Demo\n\nFrom `demo.json`:\n\n| what | value |\n|---|---|\n| WER | 12.5% |\n| latency | 0.49 s |\n"
    assert unmatched(good, files) == []
    bad = good.replace("0.49 s", "0.45 s")
    assert unmatched(bad, files) == ["README.md:8: 0.45 is in none of ['demo.json']"]
    orphan = "## Other\n\n| what | value |\n|---|---|\n| WER | 12.5% |\n"
    assert unmatched(orphan, files) == ["README.md:5: figures ['12.5'] in a table that names no results JSON"]
