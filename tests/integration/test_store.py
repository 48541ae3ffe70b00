"""Storage on SQLite and the real PostgreSQL: messages stored once, migrations match models."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from triage.db.migrate import upgrade
from triage.db.models import Message, MessageStatus
from triage.db.store import store_message

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "eml" / "en-01-gmail-reply-alternative-qp.eml"


def test_message_is_stored_pending_with_hash_and_message_id(engine):
    """A stored message keeps its bytes, sha256, Message-ID and source, and waits as pending."""
    raw = FIXTURE.read_bytes()
    with Session(engine) as session, session.begin():
        assert store_message(session, raw, source="test:1") is True
    with Session(engine) as session:
        row = session.exec(select(Message)).one()
    assert row.raw == raw
    assert row.sha256 == hashlib.sha256(raw).hexdigest()
    assert row.message_id and row.message_id in raw.decode("ascii", "replace")
    assert row.status == MessageStatus.pending.value
    assert (row.source, row.size) == ("test:1", len(raw))


def test_same_message_twice_is_stored_once(engine):
    """Importing the same bytes again reports a duplicate and adds no row."""
    raw = FIXTURE.read_bytes()
    outcomes = []
    for source in ("first", "second"):
        with Session(engine) as session, session.begin():
            outcomes.append(store_message(session, raw, source=source))
    with Session(engine) as session:
        rows = session.exec(select(Message)).all()
    assert outcomes == [True, False]
    assert [row.source for row in rows] == ["first"]


def test_racing_importers_store_one_copy(engine):
    """Eight threads storing the same bytes at once leave exactly one row."""
    raw = b"Subject: race\r\nMessage-ID: <race@example.com>\r\n\r\nsame bytes\r\n"
    results, barrier = [], threading.Barrier(8)

    def store():
        barrier.wait()
        with Session(engine) as session, session.begin():
            results.append(store_message(session, raw, source="race"))

    threads = [threading.Thread(target=store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        assert len(session.exec(select(Message)).all()) == 1
    assert sorted(results) == [False] * 7 + [True]


def test_message_without_message_id_is_stored(engine):
    """A message with no Message-ID header is stored with an empty one."""
    with Session(engine) as session, session.begin():
        assert store_message(session, b"Subject: no id\r\n\r\nbody\r\n", source="x")
    with Session(engine) as session:
        assert session.exec(select(Message)).one().message_id == ""


def test_migrations_match_the_models(engine):
    """The Alembic head creates exactly the tables and columns the models declare."""
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
