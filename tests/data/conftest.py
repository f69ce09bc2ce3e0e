"""One Spark session for the data tests that compare PySpark with DuckDB (``tests/conftest.py`` runs their files
on one worker): starting the JVM costs seconds, and a session of Spark's 200 default shuffle partitions spends
most of its time on empty tasks for these few rows."""

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local Spark session (one core, UTC, no UI, two shuffle partitions; the JVM compiling with its quick
    compiler only and one garbage-collector thread, as suits a short run of small queries: 29 s -> 22 s for the
    two tests), stopped at the end; the test skips, with the reason, where PySpark or a Java runtime is
    missing."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (the optional extra: pip install -e '.[spark]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime (PySpark needs Java 17): install one or set JAVA_HOME")
    from pyspark.sql import SparkSession

    folder = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("analysis-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.driver.extraJavaOptions",
                f"-Dderby.system.home={folder} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    yield session
    session.stop()
