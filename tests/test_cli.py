"""The command line as a user meets it: summaries, JSON, and one-line errors without tracebacks."""

import json
import re
import subprocess
import sys

import pytest

from analysis.cli import main
from tests.conftest import write_notebook

SALES = "客户ID,订单号,下单时间,实付金额\nc1,o1,2024-01-05 10:00,¥100.00\nc1,o2,2024-02-05 10:00,¥50.50\n" \
        "c2,o3,2024-01-20 09:00,\"¥1,000\"\n,o4,2024-01-21 09:00,¥5\n"


@pytest.fixture
def sales_csv(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(SALES, encoding="utf-8")
    return path


def test_check_json_has_the_documented_keys(sales_csv, capsys):
    assert main(["check", "--input", str(sales_csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("rows_in", "rows_kept", "quarantined", "amount_in", "amount_kept", "customers",
                "date_min", "date_max", "encoding", "date_format", "mapping"):
        assert key in out, key
    assert (out["rows_in"], out["rows_kept"], out["quarantined"]) == (4, 3, {"missing_customer_id": 1})
    assert out["amount_in"] == pytest.approx(1155.5)
    assert out["amount_kept"] == pytest.approx(1150.5)
    assert out["mapping"] == {"customer_id": "客户ID", "order_id": "订单号", "timestamp": "下单时间",
                              "amount": "实付金额"}
    assert (out["date_min"], out["date_max"], out["customers"]) == ("2024-01-05", "2024-02-05", 2)


def test_check_text_summary(sales_csv, capsys):
    assert main(["check", "--input", str(sales_csv), "--as-of", "2024-01-31"]) == 0
    out = capsys.readouterr().out
    assert "Rows in: 4; kept: 2 (50.0%); quarantined: 2" in out
    assert "after_as_of: 1 rows" in out
    assert "Reconciliation: exact" in out


def test_explicit_column_wins(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("buyer,when,paid,other\nb1,2024-01-05,10,x\n", encoding="utf-8")
    code = main(["check", "--input", str(path), "--json", "--column", "customer_id=buyer",
                 "--column", "timestamp=when", "--column", "amount=paid"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["rows_kept"] == 1


@pytest.mark.parametrize("args, message", [
    (["--input", "/nonexistent/sales.csv"], "error: .*not found"),
    (["--input", "{sales}", "--column", "customer_id"], "error: --column takes ROLE=HEADER"),
    (["--input", "{sales}", "--column", "colour=x"], "error: unknown column role 'colour'"),
    (["--input", "{sales}", "--config", "/nonexistent.yaml"], "error: config file not found"),
    (["--input", "{sales}", "--as-of", "soon"], "error: as-of date 'soon' is not a date"),
    (["--input", "{sales}", "--as-of", "1990-01-01"], "error: no valid rows left .*check --as-of"),
    (["--input", "{empty}"], "error: "),
    (["--input", "{header_only}"], "error: "),
    (["--input", "{no_customer}"], "error: .*customer_id"),
])
def test_user_mistakes_end_with_one_error_line(tmp_path, sales_csv, args, message, capsys):
    """In the process (the run tests below start the command itself, as a user does: a traceback printed by
    the interpreter or a thread at exit would show there)."""
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("客户ID,下单时间,实付金额\n", encoding="utf-8")
    (tmp_path / "no_customer.csv").write_text("date,amount\n2024-01-01,5\n")
    args = [a.format(sales=sales_csv, empty=tmp_path / "empty.csv",
                     header_only=tmp_path / "header_only.csv",
                     no_customer=tmp_path / "no_customer.csv") for a in args]  # fmt: skip
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.match(message, lines[0]), lines[0]


def test_an_unexpected_failure_is_still_one_line(monkeypatch, sales_csv, capsys):
    import analysis.data.pipeline

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(analysis.data.pipeline, "prepare", broken)
    monkeypatch.delenv("ANALYSIS_DEBUG", raising=False)
    assert main(["check", "--input", str(sales_csv)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected KeyError: 'boom'") and err.count("\n") == 1


def test_a_bad_setting_stops_the_run_before_any_work(tmp_path, sales_csv):
    config = tmp_path / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    nn: 5\n", encoding="utf-8")
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--input", str(sales_csv), "--config",
                           str(config), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: unknown setting 'clv.bootstrap.nn' in {config}: known settings here are n, seed, interval"]
    assert not out.exists() or not any(out.iterdir())  # no run directory left behind


def test_a_users_mistake_inside_a_notebook_exits_2_with_one_line(tmp_path, sales_csv):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    mistake = "raise UserError('abc.value is margin but the data has no margin')"
    write_notebook(folder / "01_stage.ipynb", f"from analysis.errors import UserError\n{mistake}")
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--input", str(sales_csv), "--notebooks",
                           str(folder), "--out", str(tmp_path / "reports")], capture_output=True, text=True)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: step 01_stage failed: UserError: abc.value is margin")
    assert "Kernel is running over TCP" not in proc.stderr + proc.stdout


def test_a_setting_that_needs_a_missing_column_stops_before_the_work(tmp_path, sales_csv):
    config = tmp_path / "margin.yaml"
    config.write_text("abc:\n  value: margin\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--input", str(sales_csv), "--config",
                           str(config), "--out", str(tmp_path / "reports")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: setting abc.value: margin needs a margin column, and the input has none: map one with "
        "--column margin=HEADER or change abc.value"]
    assert not any((tmp_path / "reports").glob("2*"))  # no run directory left behind


EVENTS = [{"event": "prepared", "rows_kept": 3, "customers": 2, "seconds": 0.5, "run_dir": "reports/r"},
          {"event": "done", "index_html": "reports/r/index.html", "elapsed": 1.0}]


@pytest.mark.parametrize(("options", "lines"), [
    (["--quiet", "--log-format", "json"], [json.dumps(e) for e in EVENTS]),  # the README's cron line: the events
    (["--log-format", "json"], [json.dumps(e) for e in EVENTS]),
    (["--quiet"], []),  # --quiet silences the lines for people
    ([], ["prepared 3 purchases of 2 customers in 0.5s -> reports/r", "report: reports/r/index.html (1.0s in all)"]),
])
def test_quiet_silences_the_progress_lines_but_never_the_json_log(monkeypatch, sales_csv, capsys, options, lines):
    from analysis.report import runner

    def run_report(*args, log, **kwargs):
        for event in EVENTS:
            log(event)
        return None

    monkeypatch.setattr(runner, "run_report", run_report)
    assert main(["run", "--input", str(sales_csv), *options]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == lines and captured.err == ""
