"""Split the signature off the client's own text.

A signature starts at the RFC 3676 separator ``-- ``, at a mail program's line
("Sent from my iPhone"), or at a short sign-off line ("Best regards,", "С уважением,",
"Saludos,") followed by at most a few short lines: name, title, phone; or at a line that
is only a name, followed by a few more short lines (the full name, an account, a phone).  A sign-off word
that opens a longer sentence is text, and nothing is cut that would leave no text.
"""

from __future__ import annotations

import re

SIGN_OFFS = (
    "best", "best regards", "best wishes", "kind regards", "warm regards", "regards",
    "many thanks", "all the best", "all best", "thanks", "thanks a lot", "thanks again", "thanks in advance", "thank you",
    "thank you very much", "thank you in advance", "thx", "cheers", "sincerely",
    "sincerely yours", "yours sincerely", "yours truly", "yours faithfully", "respectfully",
    "with regards", "br", "с уважением", "спасибо", "спасибо заранее", "заранее спасибо",
    "заранее благодарю", "большое спасибо", "всего доброго", "всего хорошего", "благодарю",
    "с наилучшими пожеланиями", "saludos", "saludos cordiales", "un saludo", "un cordial saludo",
    "atentamente", "gracias", "muchas gracias", "gracias de antemano", "cordialmente",
    "un abrazo", "slds", "mit freundlichen grüßen", "mit freundlichen grüssen", "viele grüße",
    "beste grüße", "grüße", "mfg", "cordialement", "bien à vous", "merci", "distinti saluti",
    "cordiali saluti", "grazie", "atenciosamente", "obrigado", "obrigada", "此致", "此致敬礼",
    "谢谢", "祝好",
)
NAME = r"[A-ZÁÉÍÓÚÑÜА-ЯЁ][\w.'-]*"
SIGN_OFF = re.compile(
    r"^(?:%s)\s*[,.!]*\s*(?:%s(?:\s+%s){0,2})?\s*[,.!]*$" % ("|".join(SIGN_OFFS), NAME, NAME),
    re.IGNORECASE,
)
DEVICE_LINE = re.compile(
    r"^(?:sent from my \w+|sent from (?:outlook|yahoo mail|mail for windows)\b.*"
    r"|get outlook for (?:ios|android)|enviado desde mi \w+|enviado desde (?:outlook|yahoo)\b.*"
    r"|отправлено с (?:iphone|ipad|android|моего \w+)\b.*|отправлено из мобильной почты mail\.ru"
    r"|отправлено из приложения .*|von meinem \w+ gesendet|envoyé de mon \w+|发自我的\w+)\W*$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^--\s?$")
# A line that is only a name ("Victor", "Игорь Лебедев"), as people sign without a sign-off.
NAME_LINE = re.compile(r"^[A-ZÁÉÍÓÚÑÜА-ЯЁ][a-záéíóúñüа-яё'-]+(?:\s+[A-ZÁÉÍÓÚÑÜА-ЯЁ][a-záéíóúñüа-яё'.-]+){0,2}$")
MAX_LINES_AFTER_NAME = 4
MAX_LINES_AFTER_SIGN_OFF = 6
MAX_SIGNATURE_LINE = 80


def split_signature(text: str) -> tuple[str, str]:
    """(text, signature) of the client's own words; signature is '' when none is found."""
    lines = text.rstrip().split("\n")
    start = _signature_start(lines)
    if start is None:
        return text.strip(), ""
    body = "\n".join(lines[:start]).strip()
    if not body:
        return text.strip(), ""
    return body, "\n".join(lines[start:]).strip()


def _signature_start(lines: list[str]) -> int | None:
    """Index of the first line of the signature block, or None."""
    candidates = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if SEPARATOR.match(line.rstrip("\r")) or DEVICE_LINE.match(stripped):
            candidates.append(index)
        elif SIGN_OFF.match(stripped) and _short_tail(lines[index + 1:]):
            candidates.append(index)
        elif NAME_LINE.match(stripped) and _short_tail(lines[index + 1:], MAX_LINES_AFTER_NAME) \
                and any(line.strip() for line in lines[index + 1:]):
            candidates.append(index)
    return min(candidates) if candidates else None


def _short_tail(lines: list[str], most: int = MAX_LINES_AFTER_SIGN_OFF) -> bool:
    """True when what follows a sign-off can be a name block: a few short lines."""
    filled = [line for line in lines if line.strip()]
    return len(filled) <= most and all(
        len(line.strip()) <= MAX_SIGNATURE_LINE for line in filled)
