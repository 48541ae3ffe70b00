"""Storing received messages into the queue, once per content."""

from __future__ import annotations

import hashlib
from email.parser import BytesHeaderParser

from sqlmodel import Session

from triage.db.models import MessageStatus, utcnow
from triage.db.queries import insert_message_if_new, notify_new
from triage.mail.headers import message_ids
from triage.mail.parse import HEADER_END

MAX_HEADER_BYTES = 256 * 1024


def store_message(session: Session, raw: bytes, source: str) -> bool:
    """Queue ``raw`` as pending; False when the same bytes are stored already.

    The caller owns the transaction: nothing is acknowledged before it commits.  A new
    message also notifies idle workers on PostgreSQL, delivered when that commit happens.
    """
    stored = insert_message_if_new(session, {
        "sha256": hashlib.sha256(raw).hexdigest(),
        "message_id": header_message_id(raw)[:998],
        "source": source[:2048],
        "raw": raw,
        "size": len(raw),
        "received_at": utcnow(),
        "status": MessageStatus.pending.value,
        "attempts": 0,
    })
    if stored:
        notify_new(session)
    return stored


def header_message_id(raw: bytes) -> str:
    """The Message-ID of ``raw`` from its header block alone, '' when there is none."""
    end = HEADER_END.search(raw, 0, MAX_HEADER_BYTES)
    head = raw[: end.start() if end else MAX_HEADER_BYTES]
    headers = BytesHeaderParser().parsebytes(head)
    return next(iter(message_ids(headers.get("Message-ID"))), "")
