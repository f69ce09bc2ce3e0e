"""The clusters package keeps the stage contract's small public pieces: no function over 60 lines, no literal
fallback for a setting (``cfg.get("key", default)``), no private name imported from another module."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "analysis" / "clusters"
MODULES = sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_functions_are_short_and_read_settings_without_a_second_default(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > 60]  # fmt: skip
    assert not long, long
    fallbacks = [ast.unparse(n) for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get"
                 and len(n.args) > 1]  # fmt: skip
    assert not fallbacks, fallbacks
    private = [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               for a in n.names if a.name.startswith("_")]  # fmt: skip
    assert not private, private
