"""Header values as a reader sees them: RFC 2047 words decoded, also malformed ones.

The stdlib's ``decode_header`` gives up on encoded words without the closing ``?=``,
inside quotes or glued to other text, all of which real mail carries; this decoder
accepts them.  Adjacent words of one charset are joined as bytes before decoding, since
mail programs split multi-byte characters across words (RFC 2047, section 6.2 says the
whitespace between encoded words is dropped).
"""

from __future__ import annotations

import base64
import binascii
import re
from email.header import Header, decode_header
from email.utils import getaddresses

from triage.mail.charset import decode_bytes

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)(?:\?=)?")
QP_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|rv|sv|vs|tr|r|ответ|отв|пересл|回复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[(?:fwd?|ext(?:ernal)?)\]\s*)+",
    re.IGNORECASE,
)
FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|rv|tr|пересл|转发)\s*[:：]", re.IGNORECASE)
MAX_HEADER_CHARS = 10_000
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def header_text(value: object) -> str:
    """A header value as text: raw 8-bit bytes decoded, encoded words decoded, unfolded."""
    text = _unwrap(value)
    if any("\udc80" <= char <= "\udcff" for char in text):
        text = decode_bytes(text.encode("ascii", "surrogateescape"), "utf-8").text
    text = re.sub(r"\r?\n[ \t]+", " ", text)
    if "=?" in text:
        text = decode_words(text)
    # Decoded CR/LF or control characters must never read as a header break downstream.
    return CONTROL.sub(" ", text).strip()


def _unwrap(value: object) -> str:
    """The header value as a string, raw 8-bit bytes kept as surrogate escapes."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 wraps a header holding raw 8-bit bytes as an unknown-8bit Header.
        value = "".join(
            part.decode("ascii", "surrogateescape") if isinstance(part, bytes) else part
            for part, _charset in decode_header(value))
    return str(value)[:MAX_HEADER_CHARS]


def decode_words(text: str) -> str:
    """Decode every RFC 2047 encoded word in ``text``, joining adjacent ones."""
    pieces: list[str] = []
    pending, pending_charset = b"", None
    position = 0
    for match in ENCODED_WORD.finditer(text):
        between = text[position:match.start()]
        charset = match.group(1).split("*")[0]
        if pending and (between.strip() or charset.lower() != pending_charset):
            pieces.append(decode_bytes(pending, pending_charset).text)
            pending = b""
        if between and not (pending and not between.strip()):
            pieces.append(between)
        pending += _word_bytes(match.group(2), match.group(3))
        pending_charset = charset.lower()
        position = match.end()
    if pending:
        pieces.append(decode_bytes(pending, pending_charset).text)
    pieces.append(text[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, payload: str) -> bytes:
    data = payload.encode("ascii", "replace")
    if encoding in "Bb":
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return data
    return QP_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))


def addresses(value: object) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header.

    Encoded words are set aside before the address syntax is read: decoded, or with
    characters RFC 2047 forbids in a phrase, they would be taken for commas or groups.
    """
    words: list[str] = []

    def set_aside(match: re.Match) -> str:
        words.append(match.group(0))
        return f"encodedword{len(words) - 1}x"

    raw = ENCODED_WORD.sub(set_aside, _unwrap(value))
    restore = re.compile(r"encodedword(\d+)x")
    pairs = []
    for name, address in getaddresses([raw]):
        if name or address:
            name = restore.sub(lambda m: words[int(m.group(1))], name)
            pairs.append((header_text(name).strip('"'), header_text(address).lower()))
    return pairs


def message_ids(value: object) -> list[str]:
    """The ``<...>`` identifiers of Message-ID, In-Reply-To or References, without brackets."""
    text = header_text(value)
    found = re.findall(r"<([^<>\s]+)>", text)
    return found or text.split()[:1]


def normalize_subject(subject: str) -> str:
    """The subject without any run of reply and forward prefixes (Re:, FW:, Ответ:, RV:...)."""
    return REPLY_PREFIX.sub("", subject).strip()


def is_forward_subject(subject: str) -> bool:
    """True when the first prefix of the subject marks a forward (Fwd:, FW:, RV:, WG:...)."""
    return bool(FORWARD_PREFIX.match(subject))
