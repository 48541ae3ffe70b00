"""Named queries that need more than the ORM: dialect-specific inserts, counts and locks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from triage.db.models import Message, MessageStatus, TriageRow, utcnow

PENDING, PROCESSING = MessageStatus.pending.value, MessageStatus.processing.value
DONE, FAILED = MessageStatus.done.value, MessageStatus.failed.value


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_message_if_new(session: Session, values: dict) -> bool:
    """INSERT ... ON CONFLICT (sha256) DO NOTHING; True when a row was inserted.

    The unique sha256 makes a second copy of the same bytes a no-op even when two
    importers race, on SQLite and PostgreSQL alike.
    """
    statement = (_insert(session)(Message).values(**values)
                 .on_conflict_do_nothing(index_elements=["sha256"]).returning(Message.id))
    return session.execute(statement).scalar_one_or_none() is not None


def try_advisory_lock(connection: Connection, key: int) -> bool:
    """pg_try_advisory_lock(key): True when this connection now holds the session-level lock."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())


def advisory_unlock(connection: Connection, key: int) -> None:
    """pg_advisory_unlock(key): release a lock taken by ``try_advisory_lock`` on this connection."""
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


# The predicate of the partial index ix_message_queue (migration 0004), written as a
# literal: SQLite uses a partial index only for a query that repeats its WHERE term.
QUEUED = text("message.status IN ('pending', 'processing')")

# PostgreSQL channel a storing transaction notifies on commit; idle workers LISTEN on it.
NEW_MESSAGE_CHANNEL = "triage_new"


def due_ids(now: datetime, limit: int):
    """SELECT the ids of up to ``limit`` due messages, oldest first, through the queue index.

    Due: pending and past any retry delay, or processing with a lease that ran out.
    """
    due = or_(
        and_(Message.status == PENDING, or_(Message.lease_expires_at.is_(None), Message.lease_expires_at <= now)),
        and_(Message.status == PROCESSING, Message.lease_expires_at < now),
    )
    return select(Message.id).where(QUEUED, due).order_by(Message.id).limit(limit)


def claim_batch(session: Session, worker_id: str, limit: int, lease_seconds: float) -> list[Message]:
    """Claim up to ``limit`` due messages for ``worker_id`` and return them, raw bytes included.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim disjoint rows at
    once; SQLite has one writer, and the single UPDATE statement takes its write lock.
    Each claim counts an attempt.
    """
    now = utcnow()
    picked = due_ids(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    claim = (update(Message).where(Message.id.in_(picked.scalar_subquery()))
             .values(status=PROCESSING, claimed_by=worker_id, lease_expires_at=now + timedelta(seconds=lease_seconds),
                     attempts=Message.attempts + 1)
             .returning(Message).execution_options(synchronize_session=False))
    return sorted(session.scalars(claim).all(), key=lambda message: message.id)


def park_abandoned(session: Session, max_attempts: int) -> int:
    """Park as failed the expired claims that used up their attempts; how many.

    A message whose worker died on it ``max_attempts`` times (a crash in a native library,
    memory exhausted) would otherwise be claimed, and kill a worker, forever.
    """
    abandoned = (update(Message).where(QUEUED, Message.status == PROCESSING, Message.lease_expires_at < utcnow(),
                                       Message.attempts >= max_attempts)
                 .values(status=FAILED, lease_expires_at=None,
                         last_error=f"abandoned: the worker stopped while processing it, {max_attempts} times")
                 .execution_options(synchronize_session=False))
    return session.execute(abandoned).rowcount


def expire_claims(session: Session, worker_id: str) -> int:
    """End the leases of a dead worker's claims now, so that others take them at once; how many.

    The attempt stays counted: the message may be what killed the worker, and
    ``park_abandoned`` parks it once that has happened too often.
    """
    expired = (update(Message).where(Message.claimed_by == worker_id, Message.status == PROCESSING)
               .values(lease_expires_at=utcnow())
               .execution_options(synchronize_session=False))
    return session.execute(expired).rowcount


def release_claims(session: Session, worker_id: str, ids: Sequence[int] | None = None) -> int:
    """Give ``worker_id``'s unfinished claims (or those of ``ids``) back as pending; how many.

    The attempt the claim counted is taken back: the message did not fail, its worker
    stopped or lost the database before getting to it.
    """
    mine = [Message.claimed_by == worker_id, Message.status == PROCESSING]
    if ids is not None:
        mine.append(Message.id.in_(ids))
    released = (update(Message).where(*mine)
                .values(status=PENDING, attempts=Message.attempts - 1,
                        lease_expires_at=None, claimed_by=None)
                .execution_options(synchronize_session=False))
    return session.execute(released).rowcount


def notify_new(session: Session) -> None:
    """NOTIFY the workers that a message was stored; PostgreSQL delivers it at commit, once per transaction.

    Elsewhere a no-op: SQLite has no notifications and its workers poll.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NEW_MESSAGE_CHANNEL}"))


def finish_messages(session: Session, worker_id: str, rows: dict[int, dict]) -> list[int]:
    """Mark the messages of ``rows`` done and store their triage rows (once each); the ids done.

    Only messages ``worker_id`` still holds are done; one whose claim was taken by another
    worker after its lease ran out is left to that worker, and its row is not stored.
    """
    done = session.scalars(update(Message).where(Message.id.in_(rows), Message.claimed_by == worker_id,
                                                 Message.status == PROCESSING)
                           .values(status=DONE, lease_expires_at=None, last_error=None)
                           .returning(Message.id).execution_options(synchronize_session=False)).all()
    if done:
        now = utcnow()
        session.execute(_insert(session)(TriageRow).values([{"message_id": message_id, "created_at": now,
                                                             **rows[message_id]} for message_id in done])
                        .on_conflict_do_nothing(index_elements=["message_id"]))
    return list(done)


def fail_message(session: Session, message_id: int, worker_id: str, error: str, retry_at: datetime | None) -> None:
    """Record ``error``; pending again from ``retry_at``, or parked as failed when it is None."""
    status = PENDING if retry_at is not None else FAILED
    session.execute(update(Message).where(Message.id == message_id, Message.claimed_by == worker_id,
                                          Message.status == PROCESSING)
                    .values(status=status, lease_expires_at=retry_at, last_error=error))


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
    return {status: count for status, count in rows}


def oldest_pending(session: Session) -> datetime | None:
    """When the longest-waiting pending message was received; None when none waits."""
    return session.execute(select(func.min(Message.received_at)).where(Message.status == PENDING)).scalar_one()


def recent_failures(session: Session, limit: int = 10) -> Sequence[Message]:
    """The last ``limit`` parked messages, newest id first."""
    return session.scalars(select(Message).where(Message.status == FAILED).order_by(Message.id.desc())
                           .limit(limit)).all()


def stored_result(session: Session, message_id: int) -> TriageRow | None:
    """The triage row of one message, if it has been triaged."""
    return session.scalars(select(TriageRow).where(TriageRow.message_id == message_id)).one_or_none()


def requeue(session: Session, ids: Sequence[int] | None) -> int:
    """Queue messages again from scratch (``ids``, or every failed one when None); how many.

    Their old triage rows go, so the next run's result is the one stored.
    """
    which = Message.id.in_(ids) if ids is not None else Message.status == FAILED
    chosen = select(Message.id).where(which).scalar_subquery()
    session.execute(delete(TriageRow).where(TriageRow.message_id.in_(chosen))
                    .execution_options(synchronize_session=False))
    count = session.execute(update(Message).where(Message.id.in_(chosen))
                            .values(status=PENDING, attempts=0, last_error=None, lease_expires_at=None,
                                    claimed_by=None).execution_options(synchronize_session=False)).rowcount
    if count:
        notify_new(session)
    return count
