"""Shared fixtures: paths to the bundled and reference data, the default config, one kernel for the report runs
of a test worker; and the order and grouping of the tests on the workers (``make test`` runs two)."""

import os
from pathlib import Path

import pytest

# One thread per worker for OpenMP (scikit-learn's boosting, k-means) and BLAS, inherited by the workers and the
# kernels they start: two workers on two cores, each with libraries spinning two threads, oversubscribed the cores
# (a churn page's work took 1.7x as long on a busy machine). Before numpy loads; a value set outside is kept.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

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


@pytest.fixture(scope="session")
def page_kernel():
    """One kernel for the report runs and page executions of a test worker (``run_report(..., kernel=)``), as
    a run's pages share one: starting a kernel and importing the pages' libraries cost about 4 s a run. A run
    that starts its own, as a user's does, is tested in ``tests/report/test_runner.py`` and ``tests/test_cli.py``."""
    from analysis.report.kernel import page_imports, shared_kernel
    from analysis.report.runner import notebooks_in

    folder = ROOT / "notebooks"
    with shared_kernel(folder, page_imports(notebooks_in(folder))) as km:
        yield km


def run_page(notebook: Path, out: Path, parameters: dict, kernel) -> Path:
    """Execute ``notebook`` as a report run executes a page: in the run's ``kernel`` (:func:`page_kernel`),
    with a fresh namespace and only the cells of ``parameters["lang"]``. The page writes customers.parquet
    (customers.csv comes once at the end of a run); returns the executed copy ``out``."""
    from analysis.report.kernel import fresh_namespace
    from analysis.report.runner import execute_notebook

    fresh_namespace(kernel)
    execute_notebook(notebook, out, parameters, kernel)
    return out


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


# Test files that share a session fixture run on one worker, so it is made once: the two sample runs, and the
# Spark session. Every other file is a group of its own (as --dist loadfile would do).
GROUPS = {"sample_runs": ("tests/report/test_runner.py", "tests/report/test_browser.py", "tests/report/test_texts.py",
                         "tests/report/test_language.py"),
          "spark": ("tests/data/test_spark.py", "tests/data/test_features.py")}
# Groups of the longest first (a worker that takes the last long group alone would keep the suite waiting).
LONG = ["tests/report/test_shapes.py", "sample_runs", "spark", "tests/report/test_security.py",
        "tests/test_project.py", "tests/report/test_masking.py"]


def group(nodeid: str) -> str:
    """The group of a test: its file's, or the name of the group in :data:`GROUPS` that lists its file."""
    path = nodeid.split("::")[0]
    return next((name for name, paths in GROUPS.items() if path in paths), path)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG)}
    items.sort(key=lambda item: rank.get(group(item.nodeid), len(rank)))  # stable: each file's order is kept


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: a run with -p no:xdist has no such hook
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` by :func:`group`, in the order collected. pytest-xdist's own loadgroup reads groups from
    a suffix it writes into ``item._nodeid``, which pytest 9.2 no longer reads (the node id is ``item._id``): every
    test file was split over both workers and each made its module and session fixtures twice."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group(nodeid)

    config.option.loadscopereorder = False  # keep the longest groups first, as sorted above
    return GroupScheduling(config, log)
