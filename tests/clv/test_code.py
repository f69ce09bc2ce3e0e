"""The CLV stage's modules keep the stage contract's small public pieces: no function over 60 lines, no literal
fallback for a setting (``cfg.get("horizon_months", 12)``: the default lives in defaults/clv.yaml), no private
name imported from another module, and no translation of English after the fact (no regular expressions)."""

import ast
from pathlib import Path

import pytest

from analysis.config import default_config

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "analysis" / "clv"
# the stage's modules (the models' mathematics is checked with the models)
MODULES = ["stage.py", "describe.py", "record.py", "show.py", "plots.py", "diagnostics.py", "__init__.py"]


def _keys(config: dict) -> set[str]:
    out: set[str] = set()
    for key, value in config.items():
        out.add(str(key))
        if isinstance(value, dict):
            out |= _keys(value)
    return out


SETTINGS = _keys(default_config()["clv"]) | {"clv"}


def _reads_setting_with_default(node: ast.AST) -> bool:
    """``x.get("key", literal)`` or ``x.get("key") or literal`` for a documented ``clv`` key."""

    def get_of_key(n: ast.AST) -> bool:
        return (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and n.args
                and isinstance(n.args[0], ast.Constant) and n.args[0].value in SETTINGS)  # fmt: skip

    if get_of_key(node) and len(node.args) > 1:
        return True
    return isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and any(map(get_of_key, node.values[:-1]))


def test_the_scan_finds_a_fallback():
    found = [_reads_setting_with_default(n) for n in ast.walk(ast.parse('cfg.get("horizon_months", 12)'))]
    assert any(found)
    found = [_reads_setting_with_default(n) for n in ast.walk(ast.parse('(cfg.get("bootstrap") or {})["n"]'))]
    assert any(found)
    assert not any(_reads_setting_with_default(n) for n in ast.walk(ast.parse('cfg["horizon_months"]')))


@pytest.mark.parametrize("name", MODULES)
def test_small_public_pieces_and_settings_read_once(name):
    source = (PACKAGE / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > 60]  # fmt: skip
    assert not long, long
    fallbacks = [ast.unparse(n) for n in ast.walk(tree) if _reads_setting_with_default(n)]
    assert not fallbacks, fallbacks
    private = [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               for a in n.names if a.name.startswith("_")]  # fmt: skip
    assert not private, private
    regex = [n.names[0].name for n in ast.walk(tree) if isinstance(n, ast.Import) and n.names[0].name == "re"]
    assert not regex, "no regular expressions in the stage's words: each sentence is written in both languages"
