"""Project hygiene: the promises the repository makes about itself."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _names(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        name = re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower()
        out[name] = req
    return out


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = _names([p for p in pip if not p.startswith("-e")])
    assert listed == wanted


def test_notebooks_have_no_outputs_and_one_parameters_cell():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no report notebooks"
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
        assert "run_dir: str = " in "".join(tagged[0]["source"]), path.name
        for cell in code:  # thin: logic lives in the package
            lines = [
                line
                for line in "".join(cell["source"]).splitlines()
                if line.strip() and not line.strip().startswith("#")
            ]
            assert len(lines) <= 15, (path.name, lines)
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name


NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def _execute(name: str, cwd: Path, out: Path, parameters: dict, km=None) -> dict:
    """``name`` run by papermill from ``cwd`` with ``parameters``, as a scheduler or JupyterLab runs it (every
    cell, both languages'), in a new kernel or in ``km`` (a kernel started in ``cwd``, its namespace emptied
    first); the executed notebook, checked for errors and for at least one chart."""
    import papermill

    from analysis.report.kernel import clients_closed, fresh_namespace

    if km is not None:
        fresh_namespace(km)
    with clients_closed(km):
        papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out), kernel_name="python3",
                                   cwd=str(cwd), progress_bar=False, parameters=parameters,
                                   **({"km": km} if km is not None else {}))  # fmt: skip
    executed = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, name
    assert any("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", [])), name
    return executed


@pytest.fixture(scope="module")
def root_kernel():
    """One kernel started in the repository root for the notebooks run from there (a kernel's start and the
    pages' imports cost about 4 s a notebook); the relative-path test below starts its own."""
    from analysis.report.kernel import shared_kernel

    with shared_kernel(ROOT) as km:
        yield km


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_runs_from_the_repository_root_with_no_parameters(tmp_path, name, root_kernel):
    """No runner, no parameter: the notebook prepares the bundled sample itself (``run_dir`` empty)."""
    _execute(name, ROOT, tmp_path / f"{name}.ipynb", {}, root_kernel)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["notebooks", "elsewhere"])
def test_a_notebook_reads_relative_paths_from_the_project_wherever_it_runs(tmp_path, where):
    """In JupyterLab the notebook runs in ``notebooks/``; a scheduler may run it from any folder: a relative
    ``input_path`` is the project's file either way."""
    cwd = ROOT / "notebooks" if where == "notebooks" else tmp_path
    parameters = {} if where == "notebooks" else {"input_path": "data/raw/CDNOW_master.txt", "as_of": "1998-06-30"}
    executed = _execute("01_data_quality", cwd, tmp_path / "out.ipynb", parameters)
    text = json.dumps(executed["cells"], ensure_ascii=False)
    assert str(ROOT / "data" / "raw" / "CDNOW_master.txt") in text  # the provenance names the project's file


def test_lifetimes_is_imported_by_one_module_only():
    package = ROOT / "src" / "analysis"
    importers = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if re.search(r"^\s*(import lifetimes|from lifetimes)", p.read_text(), re.M)
    ]
    assert importers == ["clv/fitters.py"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith(("#", "set ", " "))]
    assert commands[-1] == "make test"  # after installing Chromium for the browser test, where it is missing
    assert [c for c in commands if c.startswith("make")] == ["make test"]
    assert "make test" in readme and "make report" in readme


def test_bundled_sample_is_the_unmodified_cdnow_master(lifetimes_datasets):
    bundled = (ROOT / "data" / "raw" / "CDNOW_master.txt").read_bytes()
    assert bundled == (lifetimes_datasets / "CDNOW_master.txt").read_bytes()


PACKAGE = ROOT / "src" / "analysis"
STAGES = tuple(sorted(p.parent.name for p in PACKAGE.glob("*/stage.py")))  # every stage package


def _documented_keys() -> set[str]:
    """Every key of the settings' defaults (``src/analysis/defaults/*.yaml``), at any depth."""
    keys: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                keys.add(str(key))
                walk(value)

    for path in (PACKAGE / "defaults").glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return keys


SETTINGS_NAME = re.compile(r"^(cfg|config|settings|preset|.+_cfg|.+_config|.+_settings)$")


def _of_settings(node) -> bool:
    """Whether an expression such as ``config["clv"].get("x", {})["y"]`` reads the settings: it starts from a
    name such as ``cfg``, ``config``, ``data_cfg``, ``preset``, or passes through a ``"config"`` entry (a run's
    settings.json)."""
    import ast

    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.BoolOp):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "config":
            return True
        if (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "config"
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
        ):
            return True
        node = node.values[0] if isinstance(node, ast.BoolOp) else getattr(node, "value", None) or node.func
    return isinstance(node, ast.Name) and bool(SETTINGS_NAME.match(node.id))


def _literal_fallbacks(tree, documented: set[str]) -> list[int]:
    """Lines of ``cfg.get("key", default)`` and ``cfg.get("key") or default`` with a documented key and a default,
    read from the settings (an expression that starts from a name such as ``cfg``, ``config``, ``data_cfg``,
    ``preset``), not from a stage's record that happens to use the same word."""
    import ast

    def documented_get(node) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in documented
            and _of_settings(node.func.value)
        )

    lines = []
    for node in ast.walk(tree):
        if (
            documented_get(node)
            and len(node.args) == 2
            and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.BoolOp)
            and isinstance(node.op, ast.Or)
            and documented_get(node.values[0])
            and len(node.values[0].args) == 1
            and isinstance(node.values[-1], ast.Constant | ast.Dict | ast.List)
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def _modules():
    import ast

    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_the_literal_fallback_finder_finds_one():
    import ast

    tree = ast.parse(
        'cfg.get("horizon_months", 12)\ncfg.get("horizon_months")\nconfig["clv"].get("seed") or 0\n'
        'meta.get("tags", [])\nrecord.get("seed", 0)\n(config.get("a") or {}).get("seed", 1)\n'
        'json.loads(text)["config"].get("seed", 2)\n'
    )
    assert _literal_fallbacks(tree, {"horizon_months", "seed", "a"}) == [1, 3, 6, 7]


def test_no_setting_has_its_default_repeated_in_code():
    """A default lives once, in defaults/*.yaml: the code reads the validated settings (every key is there)."""
    documented = _documented_keys()
    found = [f"{name}:{line}" for name, tree in _modules() for line in _literal_fallbacks(tree, documented)]
    assert not found, found


def _private_imports(tree) -> list[str]:
    """``from module import name`` where the name or a part of the module is private (``_check_model``,
    ``pandas._config``)."""
    import ast

    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__"
        for alias in node.names
        if alias.name != "_"  # ibis's deferred expressions, a public name
        and any(part.startswith("_") for part in [*node.module.split("."), alias.name])
    ]


def test_the_private_import_finder_finds_them():
    import ast

    tree = ast.parse(
        "from pandas._config import config\nfrom a import _b\nfrom c import d\nfrom __future__ import x\n"
        "from ibis import _"
    )
    assert _private_imports(tree) == ["pandas._config.config", "a._b"]


def test_no_private_name_is_imported_from_another_module():
    found = [f"{name}: {imported}" for name, tree in _modules() for imported in _private_imports(tree)]
    assert not found, found


def test_no_function_in_a_stage_is_over_60_lines():
    import ast

    found = [
        f"{name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for name, tree in _modules()
        if name.split("/")[0] in STAGES
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 60
    ]
    assert not found, found


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_the_one_contract(stage):
    """``run(prepared, config)`` returning a :class:`~analysis.stage.StageResult` of the stage's name, and its
    notebook calling it the way every notebook does."""
    import importlib
    import inspect
    import typing

    from analysis.stage import StageResult

    package = importlib.import_module(f"analysis.{stage}")
    assert list(inspect.signature(package.run).parameters) == ["prepared", "config"]
    result = typing.get_type_hints(package.run)["return"]
    assert issubclass(result, StageResult) and result.stage == stage
    for part in ("stage", "describe", "show", "plots"):
        assert (PACKAGE / stage / f"{part}.py").is_file(), part
    notebook = next((ROOT / "notebooks").glob(f"*_{stage}*.ipynb"))
    code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"])
    assert f"{stage}.run(st, st.config)" in code and "st.add(result)" in code
