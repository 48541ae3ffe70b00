"""The queue as the workers see it: the claim reads an index, and a stored message wakes a listening worker.

On the real SQLite and PostgreSQL: EXPLAIN of the claim names the partial queue index, so
an idle worker's frequent look costs the same with a million done messages as with none;
on PostgreSQL a committed store NOTIFYs a worker waiting on LISTEN, and a rolled-back one
does not.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, text
from sqlmodel import Session

from triage.db.models import Message, utcnow
from triage.db.queries import due_ids
from triage.db.store import store_message
from triage.wakeup import Listen, Poll, waiter_for
from triage.settings import Settings

NEVER = threading.Event()


def archive(engine, done: int, pending: int) -> None:
    """``done`` triaged messages and ``pending`` waiting ones, then fresh planner statistics."""
    rows = [dict(sha256=f"{number:064x}", message_id="", source="test", raw=b"x", size=1, received_at=utcnow(),
                 status="done" if number < done else "pending", attempts=1 if number < done else 0)
            for number in range(done + pending)]
    with engine.begin() as connection:
        connection.execute(insert(Message), rows)
        connection.execute(text("ANALYZE"))


def plan(engine, statement) -> str:
    """The database's plan for ``statement``, as one string."""
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        return "\n".join(str(row) for row in connection.execute(text(explain + sql)))


def test_the_claim_reads_the_queue_index_not_the_archive(engine):
    """With 5,000 done messages and 20 pending, the claim's SELECT is answered from ix_message_queue."""
    archive(engine, done=5000, pending=20)
    picked = due_ids(utcnow(), 10)
    if engine.dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    found = plan(engine, picked)
    assert "ix_message_queue" in found, found
    with engine.connect() as connection:
        assert len(connection.execute(due_ids(utcnow(), 10)).all()) == 10


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_committed_store_wakes_a_listening_worker_and_a_rolled_back_one_does_not(engine, database_url):
    """NOTIFY is sent with the storing transaction: a commit wakes the listener long before its timeout."""
    listener = Listen(database_url, timeout=60)
    try:
        with Session(engine) as session:
            with session.begin():
                store_message(session, b"Subject: rolled back\r\n\r\nnot kept\r\n", source="test:1")
                session.rollback()
        pending = listener.connection.notifies(timeout=0.2)
        assert list(pending) == [], "a rolled-back store must not wake anyone"

        with Session(engine) as session, session.begin():
            store_message(session, b"Subject: kept\r\n\r\nkept\r\n", source="test:2")
        started = time.monotonic()
        listener.wait(NEVER)
        assert time.monotonic() - started < 30, "the listener waited out its timeout: no notification came"
    finally:
        listener.close()


def test_workers_listen_on_postgresql_and_poll_on_sqlite(database_url):
    """The wake-up follows the database: LISTEN where PostgreSQL can notify, a short poll on SQLite."""
    waiter = waiter_for(Settings(database_url=database_url, worker_poll_seconds=0.15))
    try:
        if database_url.startswith("postgresql"):
            assert isinstance(waiter, Listen) and waiter.connection is not None
        else:
            assert isinstance(waiter, Poll) and waiter.seconds == 0.15
    finally:
        waiter.close()
