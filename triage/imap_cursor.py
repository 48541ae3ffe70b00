"""Where the IMAP poller stands in each folder, and storing a fetched batch with that position.

A folder's position is its UIDVALIDITY and the highest UID stored (RFC 3501 2.3.1.1: a
UID means something only with its UIDVALIDITY).  The position moves in the same
transaction that stores the batch, so a crash re-reads at most one uncommitted batch and
stores nothing twice.  Each stored message's source is its RFC 5092 IMAP URL,
``imap://user@host:port/INBOX;UIDVALIDITY=v/;UID=n``.

One poller per folder: on PostgreSQL an advisory lock, held on a connection of its own for
as long as the poller runs, keeps a second poller (another thread, process or host)
waiting.  SQLite has no such lock: one process polls a SQLite store.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from triage.db.models import ImapCursor, Message, utcnow
from triage.db.queries import advisory_unlock, try_advisory_lock
from triage.db.store import header_message_id, store_message

log = logging.getLogger("triage.imap")


@dataclass(frozen=True)
class Mailbox:
    """One folder of one account: what a cursor and a lock belong to."""

    account: str
    folder: str

    @classmethod
    def of(cls, user: str, host: str, port: int, folder: str) -> Mailbox:
        """The mailbox of ``folder``, its account named as an IMAP URL (RFC 5092)."""
        return cls(f"imap://{quote(user, safe='')}@{host}:{port}", folder)

    @property
    def url(self) -> str:
        """The folder's IMAP URL, its name UTF-8 and percent-encoded (RFC 5092)."""
        return f"{self.account}/{quote(self.folder, safe='/')}"

    def epoch(self, uidvalidity: int) -> str:
        """URL prefix of every message read from this folder under ``uidvalidity``."""
        return f"{self.url};UIDVALIDITY={uidvalidity}/"

    def lock_key(self) -> int:
        """A signed 64-bit key for pg_try_advisory_lock, the same in every process."""
        digest = hashlib.blake2b(f"{self.account}/{self.folder}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Position:
    """The highest UID stored from a folder, within the folder's UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class Stored:
    """What one batch did: newly stored, already stored (same bytes or Message-ID), in UIDs."""

    new: tuple[int, ...]
    known: tuple[int, ...]


def open_position(session: Session, *, mailbox: Mailbox, uidvalidity: int) -> Position:
    """The stored position, created at UID 0, or reset to UID 0 when UIDVALIDITY changed."""
    cursor = session.get(ImapCursor, (mailbox.account, mailbox.folder))
    if cursor is None:
        cursor = ImapCursor(account=mailbox.account, folder=mailbox.folder, uidvalidity=uidvalidity, last_uid=0)
        session.add(cursor)
    elif cursor.uidvalidity != uidvalidity:
        log.warning("uidvalidity changed; rescanning folder account=%s folder=%s old=%s new=%s",
                    mailbox.account, mailbox.folder, cursor.uidvalidity, uidvalidity)
        cursor.uidvalidity, cursor.last_uid, cursor.updated_at = uidvalidity, 0, utcnow()
    return Position(cursor.uidvalidity, cursor.last_uid)


def store_batch(session: Session, *, mailbox: Mailbox, position: Position,
                messages: list[tuple[int, bytes]], last_uid: int) -> Stored:
    """Store ``messages`` (UID, raw) and move the cursor to ``last_uid``; the caller commits.

    A message is known, not stored, when its bytes are stored already (sha256) or when its
    Message-ID was read from this folder under an earlier UIDVALIDITY: after a rescan the
    server may hand out the same message with different bytes.
    """
    ids = {uid: header_message_id(raw) for uid, raw in messages}
    seen_before = earlier_message_ids(session, mailbox, position.uidvalidity, set(ids.values()))
    new, known = [], []
    for uid, raw in messages:
        fresh = ids[uid] not in seen_before and store_message(
            session, raw, source=f"{mailbox.epoch(position.uidvalidity)};UID={uid}")
        (new if fresh else known).append(uid)
    cursor = session.get(ImapCursor, (mailbox.account, mailbox.folder))
    cursor.last_uid, cursor.updated_at = last_uid, utcnow()
    return Stored(tuple(new), tuple(known))


def earlier_message_ids(session: Session, mailbox: Mailbox, uidvalidity: int, message_ids: set[str]) -> set[str]:
    """Which of ``message_ids`` were stored from this folder under another UIDVALIDITY.

    An indexed lookup on message_id, narrowed by the source URL.  Messages read under the
    current UIDVALIDITY do not count: there distinct UIDs are distinct messages, even when
    a sender reuses a Message-ID.
    """
    wanted = message_ids - {""}
    if not wanted:
        return set()
    query = select(Message.message_id).where(
        col(Message.message_id).in_(wanted),
        col(Message.source).startswith(f"{mailbox.url};UIDVALIDITY=", autoescape=True),
        ~col(Message.source).startswith(mailbox.epoch(uidvalidity), autoescape=True),
    )
    return set(session.exec(query).all())


@contextmanager
def mailbox_lock(engine: Engine, mailbox: Mailbox, stop: threading.Event, retry_seconds: float) -> Iterator[bool]:
    """Hold ``mailbox`` for this poller; yields False when ``stop`` came before the lock.

    PostgreSQL: pg_try_advisory_lock on a dedicated autocommit connection, retried every
    ``retry_seconds`` while another poller holds it.  SQLite: yields True at once, since a
    SQLite store is polled by a single process.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = mailbox.lock_key()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        held = _wait_for_lock(connection, key, mailbox, stop, retry_seconds)
        try:
            yield held
        finally:
            if held:
                _unlock(connection, key)


def _wait_for_lock(connection: Connection, key: int, mailbox: Mailbox, stop: threading.Event,
                   retry_seconds: float) -> bool:
    if try_advisory_lock(connection, key):
        return True
    log.info("mailbox locked by another poller; waiting account=%s folder=%s", mailbox.account, mailbox.folder)
    while not stop.wait(retry_seconds):
        if try_advisory_lock(connection, key):
            log.info("mailbox lock taken account=%s folder=%s", mailbox.account, mailbox.folder)
            return True
    return False


def _unlock(connection: Connection, key: int) -> None:
    # A lost connection has released the session-level lock already.
    try:
        advisory_unlock(connection, key)
    except DBAPIError as error:
        log.warning("mailbox unlock failed; the connection is gone error=%s", type(error).__name__)
