"""A private PostgreSQL cluster for tests and benchmarks that stop and start their server.

A test that restarts PostgreSQL must never touch the machine's own server, so this runs
a cluster of its own: ``initdb`` in a temporary folder, ``postgres`` on a free port of
127.0.0.1 with its socket in that folder, trust authentication for the ``postgres`` user.
PostgreSQL refuses to run as root; run as root, every server program is run as the
``postgres`` OS user through ``runuser``.  Missing programs are an error, never a skip:
``apt-get install -y postgresql``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.commands import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
OS_USER = "postgres"


class PostgresMissing(RuntimeError):
    """Raised when the PostgreSQL server programs (initdb, pg_ctl) are not installed."""


def server_program(name: str) -> str:
    """The path of ``name`` from the newest installed PostgreSQL, else from PATH."""
    for folder in reversed(BIN_DIRS):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise PostgresMissing(f"{name} is required: apt-get install -y postgresql")
    return found


class PostgresCluster:
    """One cluster in a temporary folder on 127.0.0.1:``port``, owned by one test run."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="triage-postgres-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            account = pwd.getpwnam(OS_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # As root, run as the postgres user: the server will not start as root.
        command = [server_program(program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                              check=check, cwd=self.root)

    def start(self) -> None:
        """Start the server and wait until it accepts connections (``pg_ctl -w``)."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` ends every session at once, as an outage would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``: every session is cut, then the server comes back on the same port."""
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        """True while the server's postmaster runs."""
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this cluster, for the service's psycopg driver."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL."""
        return create_database(self.url(), name)

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url``; the new database's URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def scratch_database(server_url: str, prefix: str = "triage_scratch") -> Iterator[str]:
    """A new, empty database on a running server (the machine's own, say) for one run, dropped after it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
