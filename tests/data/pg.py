"""A throw-away PostgreSQL cluster for the tests: ``initdb`` into a temporary folder, a server on a free local
port (and a socket in that folder), stopped and removed at the end. Password authentication over TCP (so a
wrong password is refused, as on a real server); the socket trusts the local user, for loading the data."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "analyst"
PASSWORD = "s3cret-Pa55"  # the tests look for it in every output: a word nothing else prints
DATABASE = "shop"


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian keeps them under /usr/lib/postgresql/N/bin), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    return next((Path(f) for f in folders if (Path(f) / "pg_ctl").exists()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    run_as: str | None  # the user the server runs as (initdb refuses root), None = this process's user

    @property
    def url(self) -> str:
        """The connection string a user gives with ``--input`` (the password in ``PGPASSWORD`` or ``.pgpass``)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def psql(self, sql: str, database: str = DATABASE, stdin: bytes | None = None) -> str:
        """Run ``sql`` through the socket as the cluster's superuser (``stdin``: what a ``COPY ... FROM STDIN``
        reads); its output."""
        command = [str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.port), "-d", database,
                   "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-c", sql]  # fmt: skip
        return self.as_owner(command, stdin).stdout.decode()

    def copy_in(self, table: str, columns: dict[str, str], csv_path: Path) -> None:
        """Create ``table`` (column → SQL type), owned by the analyst, and load ``csv_path`` (UTF-8, with a header
        line) into it."""
        cols = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        self.psql(f'CREATE TABLE "{table}" ({cols}); ALTER TABLE "{table}" OWNER TO {USER};')
        copy = f"COPY \"{table}\" FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"
        self.psql(copy, stdin=Path(csv_path).read_bytes())
        self.psql(f'ANALYZE "{table}"')

    @property
    def bin(self) -> Path:
        return binaries()

    def as_owner(self, command: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
        """``command`` run as the server's user; raises RuntimeError with its error output when it fails."""
        if self.run_as:
            command = ["su", self.run_as, "-s", "/bin/sh", "-c", " ".join(_quoted(c) for c in command)]
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.decode(errors='replace').strip()}")
        return done

    def stop(self) -> None:
        self.as_owner([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"])


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def start() -> Cluster:
    """A new cluster with the analyst's role and database; raises RuntimeError (its reason) where none can start."""
    folder_bin = binaries()
    if folder_bin is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    run_as = None
    if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user Debian's package made
        run_as = "postgres"
        if subprocess.run(["id", run_as], capture_output=True).returncode != 0:
            raise RuntimeError("running as root and there is no postgres user to run the PostgreSQL server as")
    folder = Path(tempfile.mkdtemp(prefix="analysis-pg-"))
    os.chmod(folder, 0o777)  # the postgres user writes its data and socket here
    cluster = Cluster(folder, free_port(), run_as)
    pwfile = folder / "pw"
    pwfile.write_text("postgres-superuser\n")
    os.chmod(pwfile, 0o644)
    data = folder / "data"
    try:
        cluster.as_owner([str(folder_bin / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(pwfile),
                          "-E", "UTF8", "--locale", "C", "--auth-local", "trust",
                          "--auth-host", "scram-sha-256"])  # fmt: skip
        options = f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC"
        options += " -c work_mem=64MB"  # the spine's group-bys in memory, not spilled (4 MB by default)
        cluster.as_owner([str(folder_bin / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "30",
                          "-l", str(folder / "log"), "start"])  # fmt: skip
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {str(exc).strip().splitlines()[-1]}") from None
    cluster.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", database="postgres")
    cluster.psql(f"CREATE DATABASE {DATABASE} OWNER {USER}", database="postgres")
    return cluster


def remove(cluster: Cluster) -> None:
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.folder, ignore_errors=True)
