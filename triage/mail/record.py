"""The typed records that parsing produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """A part that is not body text; listed, never decoded into text."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Email:
    """One parsed message: what the client wrote, apart from what they quoted or signed.

    ``new_text`` is the client's own words, plus the forwarded message when the mail is a
    forward (``forwarded``): that is usually what the client asks about.
    """

    message_id: str
    subject: str
    normalized_subject: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    new_text: str
    quoted_text: str
    signature: str
    forwarded: bool
    attachments: tuple[Attachment, ...]
    auto_reply: bool
    bounce: bool
    warnings: tuple[str, ...]
