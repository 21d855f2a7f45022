"""The README's command table matches the tool, and every example in it runs as written.

The examples run, in order, through bash (so pipes work) with `lipread` meaning this checkout's CLI,
in a folder holding what the README says: `clip.mp4` (a GRID clip), `ref.txt`, `data/grid` (eight
GRID clips with their alignments) and `recipe.yaml` (a tiny recipe, so `train` takes seconds).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def table_rows() -> list[str]:
    return re.findall(r"^\| `(lipread [^`]+)` \|", README, flags=re.M)


def examples() -> list[str]:
    block = README.split("Examples, run as they are", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip().startswith("lipread")]


def python_example() -> str:
    return README.split("```python", 1)[1].split("```", 1)[0]


def test_the_table_names_every_command_and_only_real_options():
    from lipread.cli.main import cli

    rows = table_rows()
    assert sorted(r.split()[1] for r in rows) == sorted(cli.commands)
    for row in rows:
        name = row.split()[1]
        opts = {o for p in cli.commands[name].params for o in getattr(p, "opts", [])}
        for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", row):
            assert flag in opts, f"{flag} of `{row}` is not an option of lipread {name}"


def test_every_example_uses_a_real_command():
    from lipread.cli.main import cli

    lines = examples()
    assert len(lines) >= 8
    for line in lines:
        for part in line.split("|"):
            words = shlex.split(part)
            name = next(w for w in words[1:] if not w.startswith("-"))
            assert words[0] == "lipread" and name in cli.commands, line


TINY_RECIPE = """\
model:
  name: lipnet_tiny
  args: {input_size: [50, 100], in_chans: 3}
data: {cache: cache/grid, batch_size: 4, num_workers: 0}
optim: {warmup_steps: 1}
out_dir: runs/default
max_steps: 2
val_every: 1
ckpt_every: 1
log_every: 1
threads: 1
tensorboard: false
"""


@pytest.fixture(scope="module")
def sandbox(grid_dir, grid_clips, tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    shutil.copy(grid_clips[0], root / "clip.mp4")
    (root / "ref.txt").write_text("clip bin blue at f two now\n")
    (root / "data" / "grid" / "s1").mkdir(parents=True)
    (root / "data" / "grid" / "alignments" / "s1").mkdir(parents=True)
    for clip in grid_clips[:8]:
        (root / "data" / "grid" / "s1" / clip.name).symlink_to(clip)
        align = grid_dir / "alignments" / "s1" / f"{clip.stem}.align"
        (root / "data" / "grid" / "alignments" / "s1" / align.name).symlink_to(align)
    (root / "recipe.yaml").write_text(TINY_RECIPE)
    return root


@pytest.mark.grid
@pytest.mark.slow
def test_every_readme_example_runs(sandbox):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    prelude = f'lipread() {{ "{sys.executable}" -m lipread "$@"; }}\nset -o pipefail\n'
    for line in examples():
        res = subprocess.run(["bash", "-c", prelude + line], cwd=sandbox, env=env, capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, f"{line}\n{res.stderr}"
        assert "Traceback" not in res.stderr, f"{line}\n{res.stderr}"
    # what the examples promise
    assert sorted(p.name for p in sandbox.glob("clip.*")) == ["clip.json", "clip.mp4", "clip.srt", "clip.txt",
                                                              "clip.vtt"]
    assert sorted(p.name for p in (sandbox / "subtitles").iterdir()) == ["clip.srt", "clip.vtt"]
    assert json.loads((sandbox / "clip.json").read_text())["model"] == "wlas-grid-s1"  # the default model
    assert json.loads((sandbox / "lipnet" / "clip.json").read_text())["model"] == "lipnet-grid-s1"
    assert (sandbox / "crops" / "clip.mkv").is_file() and (sandbox / "runs" / "first" / "best").is_dir()
    assert {"report.json", "hyp.txt", "ref.txt", "utterances.jsonl"} <= {p.name for p in (sandbox / "eval" / "first").iterdir()}


@pytest.mark.grid
def test_the_python_example_runs(sandbox, monkeypatch, capsys):
    monkeypatch.chdir(sandbox)
    exec(compile(python_example(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.strip()
