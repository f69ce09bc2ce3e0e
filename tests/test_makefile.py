"""The Makefile's clean targets, as `make -n` prints them, run in a scratch project folder: they remove the run
folders and reports/latest, never the tier history the next run compares with nor the key of the masked ids."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = "20261207-140301-3f2a9c1e"


def _commands(target: str, folder: Path) -> list[str]:
    # as a make of its own: under `make test` the inherited MAKELEVEL would have it print "make[1]: Entering ..."
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    make = subprocess.run(["make", "-n", "--no-print-directory", "-f", str(ROOT / "Makefile"), target], cwd=folder,
                          capture_output=True, text=True, check=True, env=env)
    return make.stdout.splitlines()


@pytest.fixture
def project(tmp_path):
    reports = tmp_path / "reports"
    for folder in (RUN, f"{RUN}-2", "history/as_of=1998-06-30", ".venv"):
        (reports / folder if folder != ".venv" else tmp_path / folder).mkdir(parents=True)
    (reports / RUN / "index.html").write_text("run")
    (reports / "history" / "as_of=1998-06-30" / "part-0.parquet").write_text("snapshot")
    (reports / ".mask-key").write_text("key")
    (reports / ".gitkeep").write_text("")
    (reports / "latest").symlink_to(RUN, target_is_directory=True)
    return tmp_path


def _left(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*")}


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["clean-runs", "clean"])
def test_clean_targets_keep_the_history_and_the_mask_key(project, target):
    for command in _commands(target, project):
        subprocess.run(command, shell=True, cwd=project, check=True)
    kept = {"reports", "reports/history", "reports/history/as_of=1998-06-30",
            "reports/history/as_of=1998-06-30/part-0.parquet", "reports/.mask-key", "reports/.gitkeep"}
    assert _left(project) == (kept if target == "clean" else kept | {".venv"})


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_lists_clean_runs():
    lines = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "help"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert any(line.split()[:2] == ["make", "clean-runs"] for line in lines)
