"""Walk a parsed MIME tree: pick the body text, list attachments, keep forwarded messages.

multipart/alternative takes a non-empty text/plain, else the HTML; the alternatives not
taken are still searched for attachments.  message/rfc822 parts are forwarded messages
and become text; a delivery report (multipart/report) keeps only its human-readable
first part as text.  Nothing here touches a socket or a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from triage.mail.charset import decode_bytes
from triage.mail.headers import addresses, header_text
from triage.mail.html import html_to_text
from triage.mail.record import Attachment

MAX_DEPTH = 100
CONTAINER_TYPES = ("multipart/", "message/rfc822")


@dataclass
class Body:
    """What the walk found: text parts in order, forwarded messages, attachments, warnings."""

    texts: list[str] = field(default_factory=list)
    forwards: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    warnings: set[str] = field(default_factory=set)


def extract_body(message: Message, max_text_chars: int) -> Body:
    """Walk ``message`` and collect its body; bounded by depth and text size."""
    body = Body()
    _visit(message, body, 0, max_text_chars)
    if not body.texts and not body.forwards:
        body.warnings.add("no-text-body")
    return body


def _visit(part: Message, body: Body, depth: int, limit: int, text_wanted: bool = True) -> None:
    if depth > MAX_DEPTH:
        body.warnings.add("too-deep")
        return
    kind = part.get_content_type()
    if kind == "message/rfc822" and text_wanted:
        _forwarded(part, body, depth, limit)
    elif kind == "multipart/alternative" and text_wanted:
        _alternative(part, body, depth, limit)
    elif kind == "multipart/report" and text_wanted:
        children = _children(part)
        for index, child in enumerate(children):
            if index == 0:
                _visit(child, body, depth + 1, limit)
            else:
                body.attachments.append(_attachment(child))
    elif part.is_multipart():
        for child in _children(part):
            _visit(child, body, depth + 1, limit, text_wanted)
    elif kind in ("text/plain", "text/html") and not _is_attachment(part):
        if text_wanted:
            body.texts.append(_text(part, body, limit))
    else:
        body.attachments.append(_attachment(part))
    # Decoding a payload adds its defects (bad base64...), so they are read last.
    if part.defects:
        body.warnings.add("mime-defect")


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _alternative(part: Message, body: Body, depth: int, limit: int) -> None:
    children = _children(part)
    chosen = None
    for child in children:
        if child.get_content_type() == "text/plain" and not _is_attachment(child):
            text = _text(child, body, limit)
            if text.strip():
                body.texts.append(text)
                chosen = child
                break
    if chosen is None and children:
        ranked = sorted(children, key=_alternative_rank)
        chosen = ranked[0]
        _visit(chosen, body, depth + 1, limit)
    for child in children:
        if child is not chosen and child.get_content_type() != "text/plain":
            _visit(child, body, depth + 1, limit, text_wanted=False)


def _alternative_rank(part: Message) -> int:
    kind = part.get_content_type()
    return 0 if kind == "text/html" else 1 if kind.startswith("multipart/") else 2


def _forwarded(part: Message, body: Body, depth: int, limit: int) -> None:
    inner = _children(part)
    if not inner:
        body.attachments.append(_attachment(part))
        return
    message = inner[0]
    nested = Body()
    _visit(message, nested, depth + 1, limit)
    sender = ", ".join(f"{name} <{address}>".strip() for name, address in addresses(message.get("From")))
    head = [f"From: {sender}", f"Date: {header_text(message.get('Date'))}",
            f"Subject: {header_text(message.get('Subject'))}"]
    text = "\n".join(nested.texts + nested.forwards)
    body.forwards.append("---------- Forwarded message ----------\n" + "\n".join(head) + "\n\n" + text)
    body.attachments.extend(nested.attachments)
    body.warnings |= nested.warnings - {"no-text-body"}


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).strip().lower()
    return disposition.startswith("attachment") or bool(part.get_param("name") or part.get_filename())


def _text(part: Message, body: Body, limit: int) -> str:
    data = part.get_payload(decode=True) or b""
    if len(data) > limit * 4:
        data = data[: limit * 4]
        body.warnings.add("text-truncated")
    decoded = decode_bytes(data, part.get_content_charset())
    if decoded.guessed:
        body.warnings.add("charset-fallback")
    if part.get_content_type() == "text/html":
        return html_to_text(decoded.text)
    return decoded.text.replace("\r\n", "\n").replace("\r", "\n")


def _attachment(part: Message) -> Attachment:
    name = part.get_filename() or part.get_param("name") or ""
    if isinstance(name, tuple):
        name = name[2]
    return Attachment(filename=header_text(name), content_type=part.get_content_type(), size=_size(part))


def _size(part: Message) -> int:
    """Decoded size estimated from the encoded payload, without decoding it."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding != "base64":
        return len(payload)
    length = len(payload) - sum(payload.count(space) for space in "\r\n \t")
    return max(0, length * 3 // 4 - payload.rstrip().count("=", -2))
