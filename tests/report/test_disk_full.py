"""A disk that fills up midway: exit 1, one line that says what happened and what to do, ``latest`` and the history
kept (issue 21, part 4). The reports folder is put on a small tmpfs of its own, mounted in a user and mount
namespace of the run's own (``unshare``), so nothing outside the test sees it; skipped where that is not allowed."""

import os
import shutil
import subprocess
import sys
from datetime import date

import pytest

from analysis.report.history import PART_FILE, as_of_dates, read_history

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode,
    reason="unshare cannot make a user and mount namespace here (a tmpfs of the test's own is needed to fill a disk)",
)

# On the small disk: mount it, copy a reports folder with a complete run onto it, fill it up to FREE kilobytes,
# run, and copy what is left back beside the test (the namespace and its disk go with the script).
SCRIPT = """set -e
mount -t tmpfs -o size=16m tmpfs "$DISK"
cp -a "$BASE" "$DISK/reports"
free=$(df -k "$DISK" | awk 'NR == 2 {print $4}')
dd if=/dev/zero of="$DISK/filler" bs=1k count=$((free - $FREE)) 2>/dev/null
set +e
"$@" --out "$DISK/reports"
echo $? > "$AFTER.rc"
cp -a "$DISK/reports" "$AFTER"
"""


def _runs(out):
    return sorted(p for p in out.iterdir() if p.is_dir() and p.name[0].isdigit())


@pytest.mark.parametrize(("free", "step"), [(120, "prepare"), (500, "pack")])
def test_a_full_disk_is_exit_1_with_one_line_saying_so_and_latest_is_kept(
    free, step, tmp_path, lifetimes_datasets, one_run
):
    (tmp_path / "disk").mkdir()
    run = [sys.executable, "-m", "analysis", "run", "--input", str(lifetimes_datasets / "CDNOW_sample.txt"),
           "--as-of", "1998-05-31", "--notebooks", str(tmp_path)]  # fmt: skip
    env = {"DISK": str(tmp_path / "disk"), "BASE": str(one_run), "FREE": str(free), "AFTER": str(tmp_path / "after")}
    done = subprocess.run(["unshare", "-rm", "sh", "-c", SCRIPT, "sh", *run], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert (tmp_path / "after.rc").read_text().strip() == "1", done.stderr
    disk = tmp_path / "disk" / "reports"
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"error: step {step} failed: no space left on the disk of {disk}; {disk / 'latest'} still points to the "
        f"last complete run. Free some space"
    )
    after = tmp_path / "after"
    assert (after / "latest").readlink() == (one_run / "latest").readlink()
    dates = as_of_dates(after / "history")  # the run's own snapshot, if written before the disk filled, whole
    assert set(dates) - set(as_of_dates(one_run / "history")) <= {date(1998, 5, 31)}
    assert len(read_history(after / "history")) == len(dates) * 2357
    assert all(sorted(p.name for p in d.iterdir()) == [PART_FILE] for d in (after / "history").iterdir())
    assert len(_runs(after)) == len(_runs(one_run)) + (step == "pack")  # prepare's staging folder removed
    assert not [p for p in after.iterdir() if p.name.startswith(".staging")]


@pytest.fixture(scope="module")
def one_run(tmp_path_factory, lifetimes_datasets):
    """A reports folder with a complete run (as of June) and its snapshot."""
    out = tmp_path_factory.mktemp("full_disk") / "reports"
    empty = tmp_path_factory.mktemp("no_pages")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    subprocess.run([sys.executable, "-m", "analysis", "run", "--input", sample, "--as-of", "1998-06-30", "--notebooks",
                    str(empty), "--out", str(out)], check=True, capture_output=True)  # fmt: skip
    return out
