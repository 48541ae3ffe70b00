"""The tables.  The ``message`` table is both the archive of raw mail and the work queue."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, text
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

    # The queue: the ids of the messages not yet done or parked (migration 0004).
    __table_args__ = (Index("ix_message_queue", "id", sqlite_where=text("status IN ('pending', 'processing')"),
                            postgresql_where=text("status IN ('pending', 'processing')")),)

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
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True),
        description="While processing: when the claim runs out. While pending: not before this retry time.")
    claimed_by: str | None = Field(default=None, max_length=128, description="The worker that claimed it last.")


class TriageRow(SQLModel, table=True):
    """What the pipeline concluded about one message: the record shown to agents, and why.

    Named TriageRow so it does not clash with ``triage.pipeline.TriageResult``; the unique
    ``message_id`` makes a second write of the same result a no-op.
    """

    __tablename__ = "triage_result"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(sa_column=Column(Integer, ForeignKey("message.id"), nullable=False, unique=True))
    model_version: str | None = Field(default=None, max_length=128, description="The model that classified it.")
    topic: str | None = Field(default=None, max_length=64)
    urgency: str | None = Field(default=None, max_length=32)
    team: str | None = Field(default=None, max_length=128)
    route_reason: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="The routing rule that matched.")
    language: str | None = Field(default=None, max_length=16)
    needs_review: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    result_json: str = Field(
        sa_column=Column(Text, nullable=False), description="The JSON record of triage.output.result_record.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ImapCursor(SQLModel, table=True):
    """How far the poller has read one IMAP folder: the highest stored UID within one UIDVALIDITY.

    RFC 3501: UIDs are only meaningful together with the folder's UIDVALIDITY; when it
    changes, the old UIDs mean nothing and the folder is read again from the start.
    """

    __tablename__ = "imap_cursor"

    account: str = Field(primary_key=True, max_length=512, description="imap://user@host:port")
    folder: str = Field(primary_key=True, max_length=1024, description="Folder name as configured.")
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False),
                             description="UIDVALIDITY the UID belongs to.")
    last_uid: int = Field(sa_column=Column(BigInteger, nullable=False), description="Highest UID read; 0 before any.")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
