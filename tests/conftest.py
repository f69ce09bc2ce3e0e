"""Shared fixtures: paths to the bundled and reference data, the default config."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
UCI = SHARED_DATA / "online_retail_2010-12_2011-06.parquet"
CDNOW_MASTER = ROOT / "data" / "raw" / "CDNOW_master.txt"


@pytest.fixture(scope="session")
def lifetimes_datasets() -> Path:
    """The folder of CDNOW files shipped inside the lifetimes package (read directly: its
    ``lifetimes.datasets`` module needs pkg_resources)."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    return Path(spec.origin).parent / "datasets"


@pytest.fixture
def config():
    from analysis.config import load_config

    return load_config()


def write_notebook(path: Path, body: str) -> None:
    """A report notebook with the runner's parameters and one code cell ``body``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    names = ("run_dir", "input_path", "as_of", "config_path")
    params = nbformat.v4.new_code_cell("\n".join([*(f'{name}: str = ""' for name in names), 'lang: str = "en"',
                                                  "mask_pii: bool = False"]))
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


def run_notebook(name: str, out: Path, **parameters) -> Path:
    """Execute ``notebooks/<name>.ipynb`` with papermill as the runner does (kernel python3, from the notebooks
    folder) with ``parameters``; returns the executed copy ``out``."""
    import papermill

    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    papermill.execute_notebook(str(notebook), str(out), kernel_name="python3", cwd=str(notebook.parent),
                               progress_bar=False, parameters=parameters)
    return out
