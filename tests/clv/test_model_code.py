"""The CLV models' modules (the mathematics, the fits, the lifetimes-style fitters) keep small public pieces: no
function over 60 lines and no private name imported from another module (tests/clv/test_code.py checks the
stage's modules)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "analysis"
MODEL_MODULES = ("likelihoods", "fitters", "optimize", "models", "spend", "value", "nbd", "simulate", "backtest")
MODULES = [f"clv/{m}.py" for m in (*MODEL_MODULES, "lifetimes_api")] + ["data/summary.py"]


def long_functions(source: str) -> list[tuple[str, int]]:
    return [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > 60]  # fmt: skip


def private_imports(source: str) -> list[str]:
    """Names imported with ``from module import name`` where the name or a part of the module is private."""
    return [f"{n.module}.{a.name}" for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.ImportFrom) and n.module != "__future__"
            for a in n.names if any(part.startswith("_") for part in [*n.module.split("."), a.name])]  # fmt: skip


def test_the_checks_find_what_they_look_for():
    assert long_functions("def f():\n" + "    x = 1\n" * 61) == [("f", 62)]
    assert private_imports("from pandas._config import config\nfrom a import _b\nfrom c import d") == [
        "pandas._config.config", "a._b"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_small_functions_and_no_private_imports(name):
    source = (SRC / name).read_text(encoding="utf-8")
    assert not long_functions(source)
    assert not private_imports(source)
