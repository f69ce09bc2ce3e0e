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
            lines = [line for line in "".join(cell["source"]).splitlines()
                     if line.strip() and not line.strip().startswith("#")]
            assert len(lines) <= 15, (path.name, lines)
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["01_data_quality", "02_segments"])
def test_a_notebook_runs_alone_as_in_jupyterlab(tmp_path, lifetimes_datasets, name):
    """No runner: the notebook prepares the data itself (``run_dir`` empty) from its parameters."""
    import papermill

    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out), kernel_name="python3",
                               cwd=str(ROOT / "notebooks"), progress_bar=False,
                               parameters={"input_path": sample, "as_of": "1998-06-30"})
    executed = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))


def test_lifetimes_is_imported_by_one_module_only():
    package = ROOT / "src" / "analysis"
    importers = [p.relative_to(package).as_posix() for p in package.rglob("*.py")
                 if re.search(r"^\s*(import lifetimes|from lifetimes)", p.read_text(), re.M)]
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
