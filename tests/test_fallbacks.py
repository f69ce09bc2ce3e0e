"""A setting's default lives once, in ``defaults/*.yaml``: the report package and the data spine read the validated
settings (``cfg["key"]``), never ``cfg.get("key", default)`` nor ``cfg.get("key") or default`` with a literal
default of their own for a documented key (a second default that drifts from the YAML unseen)."""

import ast
from pathlib import Path

from analysis.config import default_config

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"
CHECKED = [*(f"report/{m}.py" for m in ("export", "crm", "sheetxml", "summary", "numbers", "index", "deck",
                                         "history", "progress", "rundir")),
           "cli.py", *(f"data/{p.name}" for p in sorted((PACKAGE / "data").glob("*.py"))
                       if p.name not in ("quality.py", "pipeline.py", "returns.py"))]  # (those are others' today)


# Fallbacks kept on purpose, with their reason.
KEPT = {("report/rundir.py", "export")}  # a run directory prepared before export.csv_formula_guard existed: guarded


def _keys(config: dict) -> set[str]:
    """Every key of the documented settings, at every level."""
    out: set[str] = set()
    for key, value in config.items():
        out.add(str(key))
        if isinstance(value, dict):
            out |= _keys(value)
    return out


def _literal(node: ast.AST) -> bool:
    return isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)) and not (
        isinstance(node, ast.Constant) and node.value is None)


def _of_settings(node: ast.AST) -> bool:
    """Whether ``node`` is (a part of) the settings: a name such as ``cfg``, ``data_cfg``, ``config``, ``preset``,
    ``settings``, or anything read from one, or from a ``"config"`` entry."""
    while True:
        if isinstance(node, ast.Name):
            return node.id in ("cfg", "config", "preset", "settings") or node.id.endswith(("_cfg", "_config"))
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Constant) and node.slice.value == "config":
                return True
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "config":
                return True
            node = node.func.value
        elif isinstance(node, ast.BoolOp):
            node = node.values[0]
        else:
            return False


def _get_of(node: ast.AST, keys: set[str]) -> str | None:
    """The documented key ``node`` reads from the settings with ``.get("key", ...)``, if it is such a call."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args
            and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys
            and _of_settings(node.func.value)):
        return node.args[0].value
    return None


def fallbacks(source: str, keys: set[str]) -> list[tuple[int, str]]:
    """(line, key) of each literal fallback of a documented key in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        key = _get_of(node, keys)
        if key and len(node.args) > 1 and _literal(node.args[1]):
            found.append((node.lineno, key))
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and _literal(node.values[-1]):
            found += [(v.lineno, k) for v in node.values[:-1] if (k := _get_of(v, keys))]
    return found


def test_the_scan_finds_both_kinds_of_fallback():
    keys = {"zero_amount", "timezone", "labels", "tiers"}
    source = 'a = cfg.get("zero_amount", "keep")\nb = config["data"].get("timezone") or "UTC"\n' \
             'c = cfg["zero_amount"]\nd = record.get("zero_amount", 0)\n' \
             'e = (read_json(run, "settings.json") or {}).get("config", {}).get("tiers", {})\n'
    assert sorted(fallbacks(source, keys)) == [(1, "zero_amount"), (2, "timezone"), (5, "tiers")]


def test_no_literal_fallback_for_a_documented_setting():
    keys = _keys(default_config())
    found = {name: [(line, key) for line, key in fallbacks((PACKAGE / name).read_text(encoding="utf-8"), keys)
                    if (name, key) not in KEPT] for name in CHECKED}
    assert {name: hits for name, hits in found.items() if hits} == {}
