"""Transactions read from a real PostgreSQL server (a throw-away cluster, :mod:`tests.data.pg`): the same
customer table as the same rows read from a file, with ``--table`` and with a user's ``--query``; validation,
reconciliation and features run in the database (peak memory on 2M rows); a wrong host, a wrong password, a
missing table and a missing column each one ``error:`` line, and the password recorded nowhere."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import load_config
from analysis.data.database import redacted
from analysis.data.load import read_table
from analysis.data.pipeline import prepare
from analysis.errors import UserError
from analysis.report.rundir import settings_for, write_prepared
from tests.conftest import ROOT
from tests.data import pg
from tests.data.test_layouts import TAOBAO, TAOBAO_ROWS, write_export

pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed (pip install -e '.[postgres]')")

CDNOW_COLUMNS = {"order_id": "bigint", "customer_id": "text", "sample_id": "text", "date": "date",
                 "number_of_cds": "integer", "dollar_value": "numeric(10, 2)"}  # fmt: skip
BIG_ROWS = 250_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, lifetimes_datasets):
    """A cluster of its own with CDNOW's 1/10 sample (typed columns, the record number as order_id), the same rows
    as two tables a query joins, a Chinese-header Taobao export (as text, as exported), and 2M generated rows of
    100 customers; stopped and removed at the end."""
    try:
        server = pg.start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    folder = tmp_path_factory.mktemp("pg-data")
    try:
        cdnow = read_table(str(lifetimes_datasets / "CDNOW_sample.txt"))[0].rename(columns={"record": "order_id"})
        cdnow.to_csv(folder / "cdnow.csv", index=False)
        server.copy_in("cdnow", CDNOW_COLUMNS, folder / "cdnow.csv")
        server.psql(
            "CREATE TABLE orders AS SELECT order_id, customer_id, sample_id, date FROM cdnow; "
            "CREATE TABLE order_lines AS SELECT order_id, number_of_cds, dollar_value FROM cdnow; "
            f"ALTER TABLE orders OWNER TO {pg.USER}; ALTER TABLE order_lines OWNER TO {pg.USER}; "
            f"CREATE SCHEMA archive AUTHORIZATION {pg.USER}; CREATE TABLE archive.cdnow_1997 AS SELECT * FROM cdnow; "
            f"ALTER TABLE archive.cdnow_1997 OWNER TO {pg.USER};"
        )
        taobao = read_table(write_export(folder / "taobao.csv", TAOBAO, TAOBAO_ROWS, encoding="gbk"))[0]
        taobao.to_csv(folder / "taobao-utf8.csv", index=False)
        server.copy_in("淘宝订单", {name: "text" for name in taobao.columns}, folder / "taobao-utf8.csv")
        server.psql(
            f"CREATE TABLE big AS SELECT i AS order_id, 'C' || (i % 100) AS customer_id, "
            f"date '2020-01-01' + (i % 730) AS order_date, ((i % 9973) / 100.0 + 1)::numeric(10, 2) AS amount "
            f"FROM generate_series(1, {BIG_ROWS}) AS i; ALTER TABLE big OWNER TO {pg.USER}; ANALYZE big;"
        )
        yield server
    finally:
        pg.remove(server)


@pytest.fixture
def password(monkeypatch):
    """The password as a user gives it: in PGPASSWORD, out of the connection string."""
    monkeypatch.setenv("PGPASSWORD", pg.PASSWORD)


def customers_csv(source: str, folder: Path, **data) -> bytes:
    """customers.csv as a run writes it after prepare, for ``source`` read with the ``data`` settings."""
    settings = settings_for(source, None, None, {"data": data} if data else None)
    prepared = prepare(source, settings["config"], None)
    write_prepared(folder, prepared, {**settings, "as_of": prepared.quality["as_of"]})
    return (folder / "customers.csv").read_bytes()


def test_a_table_gives_the_customer_table_the_file_gives(cluster, password, lifetimes_datasets, tmp_path):
    from_file = customers_csv(str(lifetimes_datasets / "CDNOW_sample.txt"), tmp_path / "file")
    from_table = customers_csv(cluster.url, tmp_path / "table", table="cdnow")
    assert from_table == from_file
    assert customers_csv(cluster.url, tmp_path / "schema", table="archive.cdnow_1997") == from_file
    assert from_file.count(b"\n") == 2357 + 1  # the sample's customers and the header: not an empty match
    quality = json.loads((tmp_path / "table" / "quality.json").read_text(encoding="utf-8"))
    assert quality["source_format"] == "postgresql table cdnow" and quality["reconciled"]
    assert quality["rows_in"] == 6919 and quality["input"] == cluster.url


def test_a_query_the_user_writes_gives_the_same_customer_table(cluster, password, lifetimes_datasets, tmp_path):
    query = (
        "SELECT o.order_id, o.customer_id, o.sample_id, o.date, l.number_of_cds, l.dollar_value "
        "FROM orders o JOIN order_lines l USING (order_id) ORDER BY o.order_id"
    )
    from_file = customers_csv(str(lifetimes_datasets / "CDNOW_sample.txt"), tmp_path / "file")
    assert customers_csv(cluster.url, tmp_path / "query", query=query) == from_file


def test_a_chinese_header_export_loaded_into_postgres_reads_as_the_file(cluster, password, tmp_path):
    path = write_export(tmp_path / "ExportOrderList.csv", TAOBAO, TAOBAO_ROWS, encoding="gbk")
    from_file = customers_csv(path, tmp_path / "file")
    assert customers_csv(cluster.url, tmp_path / "table", table="淘宝订单") == from_file
    quarantine = pd.read_csv(tmp_path / "table" / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    # the same rules in the database: the refunded order, the unpaid one and the one refunded in full
    assert dict(zip(quarantine["订单编号"], quarantine["reason"], strict=True)) == {
        "1002": "cancelled_order", "1003": "unpaid_order", "1005": "refunded_order"}  # fmt: skip
    assert b"tb_alice" in from_file and b"tb_carol" not in from_file


def test_stored_time_zones_are_read_in_the_configured_zone(cluster, password, tmp_path):
    """A timestamptz column read in data.timezone, as a file's times with an offset are: 23:30 UTC on 1 March is
    07:30 on 2 March in Shanghai."""
    rows = pd.DataFrame({"customer_id": ["A", "A", "B"], "paid_at": ["2024-03-01 23:30:00+00", "2024-03-05 01:00:00+00",
                         "2024-03-03 12:00:00+00"], "amount": ["10.00", "20.50", "7.25"]})  # fmt: skip
    rows.to_csv(tmp_path / "zoned.csv", index=False)
    cluster.copy_in("zoned", {"customer_id": "text", "paid_at": "timestamptz", "amount": "numeric(10, 2)"},
                    tmp_path / "zoned.csv")  # fmt: skip
    zone = {"timezone": "Asia/Shanghai"}
    from_file = customers_csv(str(tmp_path / "zoned.csv"), tmp_path / "file", **zone)
    assert customers_csv(cluster.url, tmp_path / "table", table="zoned", **zone) == from_file
    customers = pd.read_parquet(tmp_path / "table" / "customers.parquet")
    assert customers["first_purchase"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-03-02 07:30",
        "2024-03-03 20:00",
    ]


MEASURE = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""
IMPORTS = """
import resource
import ibis, psycopg
import analysis.data.pipeline
from analysis.config import load_config
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, flush=True)
"""


def peak_mb(code: str) -> subprocess.Popen:
    """A new Python process running the imports, then ``code``; its output ends with its peak resident memory
    after the imports and at the end (MB), measured by the process that waited for it."""
    program = IMPORTS + textwrap.dedent(code)
    return subprocess.Popen([sys.executable, "-c", MEASURE, program], stdout=subprocess.PIPE, text=True, cwd=ROOT)


def peaks(process: subprocess.Popen) -> tuple[int, int]:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    after_imports, peak = (int(n) for n in out.split()[-2:])
    return after_imports, peak


def test_validation_and_features_run_in_the_database(cluster, password):
    """250k purchases of 100 customers: validation, reconciliation and the customer table cost the memory of the
    imports, not of the rows; reading the rows into pandas costs more than twice the margin. (Writing
    transactions.parquet brings them, a batch of engine.BATCH_ROWS at a time.)"""
    prepare_process = peak_mb(f"""
        p = analysis.data.pipeline.prepare({cluster.url!r}, load_config(None, {{"data": {{"table": "big"}}}}))
        assert p.quality["rows_kept"] == {BIG_ROWS} and p.quality["reconciled"], p.quality
        assert len(p.customers) == 100 and p.customers["orders"].sum() == {BIG_ROWS}
    """)
    fetch_process = peak_mb(f"""
        rows = ibis.connect({cluster.url!r}).table("big").to_pandas()
    """)
    (base, prepared), (fetch_base, fetched) = peaks(prepare_process), peaks(fetch_process)
    margin = 60  # MB; prepare on 2M rows measured 22 MB over the imports, their pandas frame 1450 MB
    assert fetched > fetch_base + 2 * margin, (fetch_base, fetched)  # what the bound guards against
    assert prepared < base + margin, (base, prepared)


def cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    """``python -m analysis run`` in a new process, with no pages (``--notebooks`` an empty folder: only the data's
    errors are at stake, and no kernel starts)."""
    empty = Path(args[args.index("--out") + 1]) / "no-pages"
    empty.mkdir(parents=True)
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "run", "--as-of", "1998-06-30", "--notebooks", str(empty), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_each_mistake_is_one_error_line_without_the_password(cluster, tmp_path):
    closed = f"postgresql://{pg.USER}@127.0.0.1:{pg.free_port()}/{pg.DATABASE}"
    wrong = cluster.url_with_password.replace(pg.PASSWORD, "not-" + pg.PASSWORD + "-either")
    given = {"PGPASSWORD": pg.PASSWORD}
    cases = {
        "wrong host": (
            cli("--input", closed, "--table", "cdnow", "--out", str(tmp_path / "a"), env=given),
            "error: could not connect to postgresql database: connection failed: ",
        ),  # fmt: skip
        "wrong password": (
            cli("--input", wrong, "--table", "cdnow", "--out", str(tmp_path / "b")),
            'password authentication failed for user "analyst"',
        ),  # fmt: skip
        "missing table": (
            cli("--input", cluster.url_with_password, "--table", "sales", "--out", str(tmp_path / "c")),
            "error: table 'sales' not found; the database holds big, cdnow, order_lines, ",
        ),  # fmt: skip
        "missing column": (
            cli(
                "--input",
                cluster.url,
                "--table",
                "cdnow",
                "--column",
                "amount=revenue",
                "--out",
                str(tmp_path / "d"),
                env=given,
            ),
            "revenue",
        ),  # fmt: skip
    }
    for case, (process, expected) in cases.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 2, (case, err)
        assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, (case, err)
        assert pg.PASSWORD not in out + err and "not-" not in err, case


def test_a_query_is_one_select_and_not_both_table_and_query(cluster, password):
    with pytest.raises(UserError, match="--query takes one SELECT statement"):
        prepare(cluster.url, load_config(None, {"data": {"query": "DROP TABLE cdnow"}}))
    with pytest.raises(UserError, match="--query takes one SELECT statement"):  # a second statement after it
        prepare(cluster.url, load_config(None, {"data": {"query": "SELECT 1; DROP TABLE cdnow;"}}))
    with pytest.raises(UserError, match="give --table or --query, not both"):
        prepare(cluster.url, load_config(None, {"data": {"query": "SELECT 1", "table": "cdnow"}}))
    with pytest.raises(UserError, match='^the query could not be read: column "nothing" does not exist$'):
        prepare(cluster.url, load_config(None, {"data": {"query": "SELECT nothing FROM orders"}}))
    with pytest.raises(UserError, match="--query reads from a database server"):
        prepare(str(ROOT / "data" / "raw" / "CDNOW_master.txt"), load_config(None, {"data": {"query": "SELECT 1"}}))
    assert cluster.psql("SELECT count(*) FROM cdnow").strip() == "6919"


def test_the_password_is_recorded_nowhere(cluster, lifetimes_datasets, tmp_path, page_kernel):
    """A run given the password in the connection string: run.json, settings.json, quality.json, the page (its
    provenance) and the executed notebook hold the connection string with *** for the password."""
    from analysis.report.runner import run_report

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_data_quality.ipynb").write_bytes((ROOT / "notebooks" / "01_data_quality.ipynb").read_bytes())
    run_dir = run_report(cluster.url_with_password, overrides={"data": {"table": "cdnow"}}, out_dir=tmp_path / "out",
                         notebooks_dir=notebooks, log=lambda _: None, kernel=page_kernel)  # fmt: skip
    shown = redacted(cluster.url_with_password)
    assert shown == f"postgresql://{pg.USER}:***@127.0.0.1:{cluster.port}/{pg.DATABASE}"
    assert json.loads((run_dir / "run.json").read_text("utf-8"))["parameters"]["input_path"] == shown
    assert json.loads((run_dir / "settings.json").read_text("utf-8"))["input_path"] == shown
    assert shown in (run_dir / "01_data_quality.html").read_text("utf-8")  # the provenance table
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert pg.PASSWORD.encode() not in path.read_bytes(), path


def test_passwords_are_redacted_wherever_they_stand():
    assert redacted("postgresql://ann:pw@db:5432/shop") == "postgresql://ann:***@db:5432/shop"
    assert redacted("postgresql://ann:p@ss@db/shop") == "postgresql://ann:***@db/shop"  # '@' in the password
    assert redacted("postgresql://ann@db/shop?password=pw&sslmode=require") == (
        "postgresql://ann@db/shop?password=***&sslmode=require"
    )
    assert redacted("postgresql://ann@db/shop") == "postgresql://ann@db/shop"
    assert redacted("data/raw/CDNOW_master.txt") == "data/raw/CDNOW_master.txt"


def test_a_table_the_user_may_not_read_is_one_error_line(cluster, password):
    """Listed (the user may insert into it) but not readable: one line naming it, not an unexpected error."""
    cluster.psql(f"CREATE TABLE IF NOT EXISTS secret (id int); REVOKE ALL ON secret FROM PUBLIC; "
                 f"GRANT INSERT ON secret TO {pg.USER}")  # fmt: skip
    with pytest.raises(UserError, match="^could not read secret in the database: permission denied"):
        prepare(cluster.url, load_config(None, {"data": {"table": "secret"}}))
