"""``parse(raw) -> Email``: the first step of the pipeline, and the only one that sees MIME.

The stdlib's compat32 parser reads the structure (it is lenient and several times
faster than the default policy); everything a reader needs is then decoded here by
hand-picked rules: headers, charsets, HTML, quotes, signatures, automatic-mail flags.
Bounds on size, header count and MIME containers keep every message to bounded time
and memory; a message past them is read partly, with a warning, never refused, except
above the byte limit.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from triage.errors import MessageTooLarge
from triage.mail.autoreply import automatic_flags
from triage.mail.headers import (
    addresses,
    header_text,
    is_forward_subject,
    message_ids,
    normalize_subject,
)
from triage.mail.mime import extract_body
from triage.mail.quotes import split_quotes
from triage.mail.record import Email
from triage.mail.signature import split_signature

HEADER_END = re.compile(rb"\r?\n\r?\n")
BARE_CR = re.compile(rb"\r(?!\n)")
HEADER_START = re.compile(rb"^[^ \t\r\n]", re.MULTILINE)
CONTAINER = re.compile(rb"^content-type:[ \t]*(?:multipart/|message/rfc822)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ParseLimits:
    """The bounds that keep one message to bounded work (see README, "Bounds")."""

    max_message_bytes: int = 50 * 1024 * 1024
    max_headers: int = 1000
    max_mime_parts: int = 100
    max_text_chars: int = 1_000_000


DEFAULT_LIMITS = ParseLimits()


def parse(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> Email:
    """Parse raw message bytes into an ``Email``; only a message over the byte limit raises."""
    if len(raw) > limits.max_message_bytes:
        raise MessageTooLarge(
            f"message is {len(raw)} bytes, over the limit of {limits.max_message_bytes}")
    warnings: set[str] = set()
    raw = _bounded(raw, limits, warnings)
    try:
        message = email.message_from_bytes(raw)
    except RecursionError:
        warnings.add("too-deep")
        message = email.message_from_bytes(raw[: HEADER_END.search(raw + b"\n\n").end()])
    return _email(message, limits, warnings)


def _bounded(raw: bytes, limits: ParseLimits, warnings: set[str]) -> bytes:
    """Cut a message past the header-count or container-count bound, noting it."""
    end_match = HEADER_END.search(raw)
    end = end_match.start() if end_match else len(raw)
    if b"\r" in raw[:end]:
        # A bare CR would end the header block early (RFC 5322 allows CR only before LF).
        raw = BARE_CR.sub(b" ", raw[:end]) + raw[end:]
    if raw.count(b"\n", 0, end) > limits.max_headers:
        starts = [m.start() for m in HEADER_START.finditer(raw, 0, end)]
        if len(starts) > limits.max_headers:
            raw = raw[: starts[limits.max_headers]] + raw[end:]
            warnings.add("too-many-headers")
    rough = raw.count(b"ultipart/") + raw.count(b"ULTIPART/") + raw.count(b"fc822") + raw.count(b"FC822")
    if rough > limits.max_mime_parts:
        containers = [m.start() for m in CONTAINER.finditer(raw)]
        if len(containers) > limits.max_mime_parts:
            raw = raw[: containers[limits.max_mime_parts]]
            warnings.add("too-many-parts")
    return raw


def _email(message: email.message.Message, limits: ParseLimits, warnings: set[str]) -> Email:
    subject = header_text(message.get("Subject"))
    senders = addresses(message.get("From"))
    from_name, from_address = senders[0] if senders else ("", "")
    body = extract_body(message, limits.max_text_chars)
    warnings |= body.warnings
    text = "\n\n".join(part for part in body.texts if part.strip())
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        warnings.add("text-truncated")
    split = split_quotes(text, forward_subject=is_forward_subject(subject))
    own, signature = split_signature(split.own)
    forwarded = [block for block in (split.forwarded, *body.forwards) if block]
    flags = automatic_flags(message, subject, from_address)
    return Email(
        message_id=next(iter(message_ids(message.get("Message-ID"))), ""),
        subject=subject,
        normalized_subject=normalize_subject(subject),
        from_name=from_name,
        from_address=from_address,
        to=tuple(address for _, address in addresses(message.get("To"))),
        cc=tuple(address for _, address in addresses(message.get("Cc"))),
        date=_date(message.get("Date")),
        in_reply_to=next(iter(message_ids(message.get("In-Reply-To"))), ""),
        references=tuple(message_ids(message.get("References"))),
        new_text="\n\n".join([own, *forwarded]).strip(),
        quoted_text=split.quoted,
        signature=signature,
        forwarded=bool(forwarded),
        attachments=tuple(body.attachments),
        auto_reply=flags.auto_reply,
        bounce=flags.bounce,
        warnings=tuple(sorted(warnings)),
    )


def _date(value: object):
    try:
        return parsedate_to_datetime(header_text(value)) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
