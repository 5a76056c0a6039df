"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` on loopback in a temp dir.

The cluster runs as a subprocess with trust authentication on 127.0.0.1 and a free port; each
test gets its own database (``PgCluster.new_database``). As root, PostgreSQL refuses to run, so
the cluster is owned by and run as an unprivileged user (``postgres`` when it exists, else
``nobody``) through ``runuser``.

When the binaries or psycopg are missing the tests skip with the reason, unless
``MIPGUIDE_TEST_POSTGRES=required`` (CI sets it), where they fail instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from mipguide.bench.api import free_port
from tests import required

REQUIRED_ENV = "MIPGUIDE_TEST_POSTGRES"
USER = "mipguide"


def pg_bin_dir() -> Path | None:
    """Directory holding initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    return None


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail when PostgreSQL tests are required."""
    required.unavailable(reason, REQUIRED_ENV)


def _run_as() -> tuple[list[str], int | None, int | None]:
    """Command prefix and uid/gid to own the cluster with (as root: an unprivileged user)."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", name, "--"], pw.pw_uid, pw.pw_gid
    unavailable("running as root without runuser or an unprivileged user for PostgreSQL")
    raise AssertionError("unreachable")


@dataclass
class PgCluster:
    """A running cluster; ``url(db)`` is the SQLAlchemy URL of one of its databases."""

    root: Path
    port: int
    bindir: Path
    prefix: list[str]

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        dsn = f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        data = self.root / "data"
        cmd = [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate"]
        subprocess.run([*cmd, "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """initdb and start a cluster in a new temp dir (skips or fails when it cannot)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install 'psycopg[binary]', extra 'postgres')")
    bindir = pg_bin_dir()
    if bindir is None:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) not found (apt-get install postgresql)")
        raise AssertionError("unreachable")
    prefix, uid, gid = _run_as()
    # not under pytest's tmp dir: that is private to root and the server user must enter it
    root = Path(tempfile.mkdtemp(prefix="mipguide-pg-"))
    if uid is not None and gid is not None:
        os.chown(root, uid, gid)
    data, port = root / "data", free_port()

    def run(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(f"{args[0]} failed: {proc.stderr}{proc.stdout}{log}", pytrace=False)

    run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "-N")
    opts = (
        f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = str(bindir / "pg_ctl")
    run(pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-o", opts, "-w", "start")
    return PgCluster(root, port, bindir, prefix)
