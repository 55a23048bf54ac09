"""evaluate's modules import one way: results know no verdict, nothing imports a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import lookalike.evaluate

FOLDER = Path(lookalike.evaluate.__file__).parent


def imports(module: str, *, runtime_only: bool = False) -> set[str]:
    """Modules imported by ``lookalike/evaluate/<module>.py`` (at run time: outside
    ``if TYPE_CHECKING:``)."""
    tree = ast.parse((FOLDER / f"{module}.py").read_text(encoding="utf-8"))
    skip: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_results_do_not_import_the_verdict():
    assert not any("verdict" in m for m in imports("result"))


def test_verdict_depends_on_result_types_only():
    assert not {m for m in imports("verdict", runtime_only=True) if m.startswith("lookalike")}
    assert imports("verdict") & {"lookalike.evaluate.result"}


def test_evaluate_imports_no_higher_layer():
    for path in FOLDER.glob("*.py"):
        mods = imports(path.stem)
        bad = {m for m in mods if m.split(".")[:2] in (["lookalike", "report"], ["lookalike", "audit"],
                                                       ["lookalike", "cli"])}
        assert not bad, f"{path.name} imports {bad}"
