"""Split the client's new words from the history their mail program quoted.

The first line that starts quoted history decides: an attribution ("On ... wrote:",
"El ... escribió:", "... написал(а):"), a separator ("-----Original Message-----"),
an Outlook header block (From:/Sent:/To:/Subject: in any language), a ``>`` line, or
the marker the HTML converter put before a quote element.  A forward separator, or a
block under a forward subject (Fwd:, FW:, RV:...), keeps the rest as forwarded text:
the client sends it to be read.  Under ``>`` quoting, unquoted lines between or after
the quoted ones are the client's inline answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.mail.html import QUOTE_MARK

FLAGS = re.IGNORECASE
ATTRIBUTION = re.compile(
    "|".join((
        r"^on\b.+\bwrote\s*:$",
        r"^el\b.+\bescribi[óo]\s*:$",
        r"^.+\b(?:пишет|написал\(а\)|написала?|писал\(а\))\s*:$",
        r"^am\b.+\bschrieb\b.*:$",
        r"^le\b.+\ba [ée]crit\s*:$",
        r"^il\b.+\bha scritto\s*:$",
        r"^em\b.+\bescreveu\s*:$",
        r"^.+写道\s*[：:]$",
        # Mail.ru: "Понедельник, 3 ноября 2025, 10:12 +03:00 от Desk <desk@example.com>:"
        r"^.{0,60}\d{1,2}:\d{2}.{0,12}\sот\s.+<[^<>\s]+@[^<>\s]+>\s*:$",
        # Yandex: '03.11.2025, 10:12, "Desk" <desk@example.com>:'
        r"^\d{1,2}\.\d{1,2}\.\d{2,4},\s*\d{1,2}:\d{2},\s*.+:$",
    )),
    FLAGS,
)
ATTRIBUTION_START = re.compile(r"^(?:on|el|am|le|il|em)\s.*\d", FLAGS)
FORWARD_PHRASES = (
    "forwarded message", "begin forwarded message", "forwarded message follows",
    "mensaje reenviado", "inicio del mensaje reenviado", "пересылаемое сообщение",
    "перенаправленное сообщение", "начало переадресованного сообщения",
    "переадресованное сообщение", "weitergeleitete nachricht",
    "anfang der weitergeleiteten nachricht", "message transféré", "début du message réexpédié",
    "messaggio inoltrato", "mensagem encaminhada", "转发的邮件", "转发邮件",
)
ORIGINAL_PHRASES = (
    "original message", "mensaje original", "исходное сообщение", "исходное письмо",
    "ursprüngliche nachricht", "message d'origine", "messaggio originale", "mensagem original",
    "原始邮件",
)
FORWARD_LINE = re.compile(r"^[\W_]*(?:%s)[\W_]*$" % "|".join(FORWARD_PHRASES), FLAGS)
ORIGINAL_LINE = re.compile(r"^[\W_]*(?:%s)[\W_]*$" % "|".join(ORIGINAL_PHRASES), FLAGS)
RULE_LINE = re.compile(r"^[_\-=]{10,}$")
HEADER_FROM = re.compile(r"^\W{0,2}(?:from|de|от|von|da|发件人)\W{0,2}\s*[:：]", FLAGS)
HEADER_DATE = re.compile(
    r"^\W{0,2}(?:sent|date|enviado|fecha|отправлено|дата|gesendet|datum|envoyé|inviato|data|"
    r"发送时间|日期)\W{0,2}\s*[:：]", FLAGS)
HEADER_SUBJECT = re.compile(
    r"^\W{0,2}(?:subject|asunto|тема|betreff|objet|oggetto|assunto|主题)\W{0,2}\s*[:：]", FLAGS)
MAX_MARKER_CHARS = 300


@dataclass(frozen=True)
class QuoteSplit:
    """The client's own text, the quoted history, and forwarded text kept for reading."""

    own: str
    quoted: str
    forwarded: str


def split_quotes(text: str, forward_subject: bool = False) -> QuoteSplit:
    """Split ``text`` at the first line that starts quoted or forwarded history."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        found = _marker(lines, index, forward_subject)
        if found is None:
            continue
        kind, length = found
        own = lines[:index]
        rest = [item for item in lines[index:] if item.strip() != QUOTE_MARK]
        if kind == "forward":
            return QuoteSplit(_join(own), "", _join(rest))
        if kind == "cite":
            return _split_cited(own, lines[index:], length)
        return QuoteSplit(_join(own), _join(rest), "")
    return QuoteSplit(text.strip(), "", "")


def _marker(lines: list[str], index: int, forward_subject: bool) -> tuple[str, int] | None:
    """(kind, marker line count) when a history marker starts at ``index``, else None."""
    line = lines[index].strip()
    if not line or len(line) > MAX_MARKER_CHARS:
        return None
    if line.startswith(">"):
        return "cite", 0
    if line == QUOTE_MARK:
        return _block_kind(lines, index + 1, forward_subject), 1
    if FORWARD_LINE.match(line):
        return "forward", 1
    if ORIGINAL_LINE.match(line) or RULE_LINE.match(line) and _header_block(lines, index + 1):
        return _block_kind(lines, index, forward_subject), 1
    if _header_block(lines, index):
        return ("forward" if forward_subject else "block"), 0
    length = _attribution(lines, index)
    if length:
        return "cite", length
    return None


def _block_kind(lines: list[str], start: int, forward_subject: bool) -> str:
    """A quote block is a forward if its first lines say so or the subject does."""
    following = [line.strip() for line in lines[start:start + 4] if line.strip()]
    if forward_subject or any(FORWARD_LINE.match(line) for line in following[:2]):
        return "forward"
    return "block"


def _header_block(lines: list[str], index: int) -> bool:
    """True when an Outlook-style header block starts here: From, then Sent/Date and Subject,
    or From with Sent/Date on the very next line (a header cut short when pasted)."""
    if index >= len(lines) or not HEADER_FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1:index + 7]]
    if following and HEADER_DATE.match(following[0]):
        return True
    return any(HEADER_DATE.match(line) for line in following) and any(
        HEADER_SUBJECT.match(line) for line in following)


def _attribution(lines: list[str], index: int) -> int:
    """Number of lines of an attribution starting at ``index`` (mail programs wrap it), else 0."""
    line = lines[index].strip()
    if line.endswith((":", "：")):
        return 1 if ATTRIBUTION.match(line) else 0
    if not ATTRIBUTION_START.match(line):
        return 0
    for extra in (1, 2):
        joined = " ".join(item.strip() for item in lines[index:index + extra + 1])
        if len(joined) <= MAX_MARKER_CHARS and joined.endswith(":") and ATTRIBUTION.match(joined):
            return extra + 1
    return 0


def _split_cited(own: list[str], region: list[str], attribution_lines: int) -> QuoteSplit:
    """Under ``>`` quoting, unquoted lines are the client's inline or bottom answers."""
    body = region[attribution_lines:]
    first = next((line for line in body if line.strip()), "")
    if attribution_lines and not first.lstrip().startswith(">"):
        return QuoteSplit(_join(own), _join(region), "")
    quoted = region[:attribution_lines]
    answers = []
    for line in body:
        (quoted if line.lstrip().startswith(">") else answers).append(line)
    return QuoteSplit(_join(own + [""] + answers), _join(quoted), "")


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
