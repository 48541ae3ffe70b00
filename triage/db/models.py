"""The tables.  The ``message`` table is both the archive of raw mail and the work queue."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MessageStatus(str, Enum):
    """Where a stored message is in its life: waiting, being worked on, done, or parked."""

    pending = "pending"
    processing = "processing"
    done = "done"
    failed = "failed"


class Message(SQLModel, table=True):
    """One received message, byte for byte: every later step can be re-run from ``raw``."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True, description="Hex digest of raw; one row per content.")
    message_id: str = Field(default="", max_length=998, index=True, description="Message-ID, no brackets.")
    source: str = Field(max_length=2048, description="Where it came from: a path, imap:..., smtp:...")
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int = Field(description="Length of raw in bytes.")
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(
        default=MessageStatus.pending.value,
        sa_column=Column(String(16), nullable=False, index=True),
        description="A MessageStatus value.",
    )
    attempts: int = Field(default=0, description="Processing attempts so far.")
    last_error: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="The error of the last failed attempt.")
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ImapCursor(SQLModel, table=True):
    """How far the poller has read one IMAP folder: the highest stored UID within one UIDVALIDITY.

    RFC 3501: UIDs are only meaningful together with the folder's UIDVALIDITY; when it
    changes, the old UIDs mean nothing and the folder is read again from the start.
    """

    __tablename__ = "imap_cursor"

    account: str = Field(primary_key=True, max_length=512, description="imap://user@host:port")
    folder: str = Field(primary_key=True, max_length=1024, description="Folder name as configured.")
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False), description="UIDVALIDITY the UID belongs to.")
    last_uid: int = Field(sa_column=Column(BigInteger, nullable=False), description="Highest UID read; 0 before any.")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
