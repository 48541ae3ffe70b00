"""A client for trying the receiver: send one message by SMTP or LMTP and return its reply.

Used by ``triage send-sample``; it speaks to the receiver as configured (LMTP, STARTTLS
and AUTH when the settings say so), so one command shows the receiver works end to end.
"""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from triage.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "eml"
SENDER = "sample@client.example"


def first_sample() -> Path:
    """The first sample message of ``fixtures/eml`` in name order."""
    return sorted(SAMPLES.glob("*.eml"))[0]


def default_recipient(settings: Settings) -> str:
    """The first configured address, else the support address of the first configured domain."""
    if settings.smtp_recipients:
        return settings.smtp_recipients[0]
    return f"support@{settings.smtp_domains[0]}" if settings.smtp_domains else "support@desk.example"


def send_sample(settings: Settings, raw: bytes, recipient: str, host: str, port: int) -> tuple[int, str]:
    """Send ``raw`` to ``recipient``; the reply that decided it: a refusal, or the reply to DATA."""
    client_class = smtplib.LMTP if settings.smtp_lmtp else smtplib.SMTP
    try:
        with client_class(host, port, timeout=60) as client:
            code, reply = transaction(client, settings, raw, recipient)
    except smtplib.SMTPResponseException as error:
        code, reply = error.smtp_code, error.smtp_error
    return code, reply.decode("utf-8", "replace")


def transaction(client: smtplib.SMTP, settings: Settings, raw: bytes, recipient: str) -> tuple[int, bytes]:
    """Greeting, STARTTLS and AUTH when offered and configured, then MAIL, RCPT and DATA."""
    client.ehlo()
    if client.has_extn("starttls"):
        context = ssl.create_default_context()
        if settings.smtp_tls_cert is not None:
            # A self-signed receiver certificate is its own trust anchor.
            context.load_verify_locations(settings.smtp_tls_cert)
        client.starttls(context=context)
        client.ehlo()
    if settings.smtp_username is not None and settings.smtp_password is not None:
        client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    code, reply = client.mail(SENDER)
    if code == 250:
        code, reply = client.rcpt(recipient)
    if code == 250:
        code, reply = client.data(raw)
    return code, reply
