"""Named queries that need more than the ORM: dialect-specific inserts, counts and locks."""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from triage.db.models import Message


def insert_message_if_new(session: Session, values: dict) -> bool:
    """INSERT ... ON CONFLICT (sha256) DO NOTHING; True when a row was inserted.

    The unique sha256 makes a second copy of the same bytes a no-op even when two
    importers race, on SQLite and PostgreSQL alike.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(Message).values(**values)
                 .on_conflict_do_nothing(index_elements=["sha256"]).returning(Message.id))
    return session.execute(statement).scalar_one_or_none() is not None


def try_advisory_lock(connection: Connection, key: int) -> bool:
    """pg_try_advisory_lock(key): True when this connection now holds the session-level lock."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())


def advisory_unlock(connection: Connection, key: int) -> None:
    """pg_advisory_unlock(key): release a lock taken by ``try_advisory_lock`` on this connection."""
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
