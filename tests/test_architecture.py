"""The package's shape (issue 27, docs/DESIGN.md): no import cycle, no import from a higher layer, and no
branch on the model's kind outside its reader.

Imports are read from the source (module level and inside functions alike), so a lazy import counts too.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lipread"

LAYERS = [
    {"errors", "types", "registry", "config", "native", "progress", "device", "background"},
    {"io", "text"},
    {"audio", "face", "metrics", "decoding"},
    {"frontend"},
    {"data", "models"},
    {"readers"},
    {"train"},
    {"pipelines"},
    {"cli", "__main__", "lipread"},
]
"""Lowest first: a module may import its own layer and the ones below it, never one above."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the lipread modules it imports (``from X import Y`` with Y a module counts as X.Y only)."""
    mods = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
                targets = subs + ([target] if len(subs) < len(node.names) else [])
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[name].update(t for t in targets if t in mods and t != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "lipread"
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_every_package_has_a_layer_and_imports_only_downwards():
    edges = import_graph()
    for module in _modules():
        _layer(module)  # StopIteration: a new top-level package needs its place in LAYERS
    upward = sorted(f"{a} -> {b}" for a, bs in edges.items() for b in bs if _layer(b) > _layer(a))
    assert upward == []


def test_the_check_finds_a_cycle_and_an_upward_import():
    """The checks can fail: a made-up graph with both."""
    graph = {"lipread.a": {"lipread.b"}, "lipread.b": {"lipread.a"}, "lipread.c": set()}
    assert cycles(graph) == [["lipread.a", "lipread.b"]]
    assert _layer("lipread.data.prepare") < _layer("lipread.pipelines.transcribe")


def test_no_branch_on_the_models_kind_in_the_pipelines():
    """Which family a model is, and what it has, is its reader's business (lipread.readers)."""
    kind = re.compile(r"isinstance\([^,]*model[^,]*,(?!\s*LoadedModel\))|\.objective\b|is_attention|has_listen|\.watch\b|hasattr\(\s*model"
                      r"|family_of|\bLipNet\b|\bWLAS\b\(")
    hits = [f"{p.name}:{i}: {line.strip()}" for p in (PACKAGE / "pipelines").glob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if kind.search(line)]
    assert hits == []
    assert kind.search("if isinstance(self.loaded.model, WLAS):") and kind.search('getattr(model, "has_listen")')
    assert not kind.search("model if isinstance(model, LoadedModel) else load_model(model)")  # a name or a loaded one
