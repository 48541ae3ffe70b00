"""Is this mail from a program rather than a person?  Auto-replies and bounces.

Signals: RFC 3834 ``Auto-Submitted`` (anything but "no"), the ``X-Autoreply`` and
``X-Autorespond`` headers, ``Precedence: bulk/junk/list``, ``List-Id`` (RFC 2919), an
empty ``Return-Path`` (RFC 5321 null reverse-path), out-of-office subjects, and for
bounces a ``multipart/report; report-type=delivery-status`` (RFC 3464) or a
MAILER-DAEMON / postmaster sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

OUT_OF_OFFICE = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response"
    r"|autorespuesta|respuesta autom[áa]tica|fuera de (?:la )?oficina|ausente|ausencia"
    r"|автоответ|автоматический ответ|нет на месте|в отпуске|отсутств\w+ в офисе"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|absence|自动回复)",
    re.IGNORECASE,
)
DAEMON_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)


@dataclass(frozen=True)
class AutomaticFlags:
    """``auto_reply``: sent by a program (bounces included); ``bounce``: a delivery report."""

    auto_reply: bool
    bounce: bool


def automatic_flags(message: Message, subject: str, from_address: str) -> AutomaticFlags:
    """Flags from the headers and structure of the top-level message."""
    bounce = _is_bounce(message, from_address)
    auto = bounce or _auto_headers(message) or bool(OUT_OF_OFFICE.match(subject))
    return AutomaticFlags(auto_reply=auto, bounce=bounce)


def _is_bounce(message: Message, from_address: str) -> bool:
    report = message.get_content_type() == "multipart/report" and (
        str(message.get_param("report-type", "")).lower() == "delivery-status")
    return report or bool(DAEMON_SENDER.match(from_address))


def _auto_headers(message: Message) -> bool:
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return_path = message.get("Return-Path")
    return (
        not submitted.startswith("no")
        or message.get("X-Autoreply") is not None
        or message.get("X-Autorespond") is not None
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or message.get("List-Id") is not None
        or (return_path is not None and str(return_path).strip() in {"<>", ""})
    )
