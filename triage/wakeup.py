"""How an idle worker waits for work: a PostgreSQL notification, or a short poll.

The latency target (a committed triage row within 0.5 s of SMTP 250 or IMAP APPEND at the
median) rules out sleeping a whole poll interval.  On PostgreSQL the storing transaction
sends ``NOTIFY triage_new`` (``triage.db.queries.notify_new``), delivered at its commit;
a worker LISTENs on a connection of its own and wakes at once, or after
``worker_listen_seconds`` at most, since retries coming due and expired leases notify
nobody.  Notifications that arrive while the worker is busy wait on that connection and
wake it as soon as it is idle again, so none is missed.  SQLite has no notifications:
there the worker polls every ``worker_poll_seconds``, cheap because the claim query reads
the small partial index over queued rows.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import psycopg
from sqlalchemy.engine import make_url

from triage.db.queries import NEW_MESSAGE_CHANNEL
from triage.settings import Settings

log = logging.getLogger("triage.worker")


class Waiter(Protocol):
    """Blocks an idle worker until work may be due or ``stop`` is set."""

    def wait(self, stop: threading.Event) -> None: ...

    def close(self) -> None: ...


class Poll:
    """Sleep ``seconds`` (or until stopped): the SQLite way."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.seconds)

    def close(self) -> None:
        pass


class Listen:
    """LISTEN for new messages on a dedicated autocommit connection, with a timeout.

    The connection is opened at once, so that a message stored while the worker makes its
    first claim still wakes it.  After an error (a restarted server) it is opened again at
    the next wait, which then returns at once: notifications sent in between were lost, so
    the worker looks for work before it sleeps.  While it cannot be opened, the worker polls
    every ``timeout`` seconds.
    """

    def __init__(self, database_url: str, timeout: float) -> None:
        self.conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.timeout = timeout
        self.connection: psycopg.Connection | None = None
        self._connect()

    def wait(self, stop: threading.Event) -> None:
        if stop.is_set():
            return
        if self.connection is None:
            if not self._connect():
                stop.wait(self.timeout)
            return
        try:
            for _ in self.connection.notifies(timeout=self.timeout, stop_after=1):
                pass
        except psycopg.Error as error:
            log.warning("listen connection lost", extra={"error": type(error).__name__})
            self.close()

    def _connect(self) -> bool:
        try:
            self.connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
            self.connection.execute(f"LISTEN {NEW_MESSAGE_CHANNEL}")
            return True
        except psycopg.Error as error:
            log.warning("cannot listen; polling until it can",
                        extra={"error": type(error).__name__, "poll_seconds": self.timeout})
            self.close()
            return False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def waiter_for(settings: Settings) -> Waiter:
    """LISTEN on PostgreSQL, a short poll anywhere else."""
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return Listen(settings.database_url, settings.worker_listen_seconds)
    return Poll(settings.worker_poll_seconds)
