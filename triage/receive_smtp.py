"""The SMTP/LMTP receiver: an aiosmtpd handler that stores each message, then answers 250.

One job: speak SMTP (RFC 5321) or LMTP (RFC 2033) at the edge and hand the raw bytes to
the store.  Success is answered only after the row is committed, so mail a client was told
is delivered is never lost; a duplicate is success too, its bytes being stored already.
Mail is taken only for the configured addresses and domains: the receiver never relays.
The database work runs in a thread, so one slow commit never stalls other sessions.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import socket
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from triage.db.store import store_message
from triage.errors import ConfigError
from triage.settings import Settings

log = logging.getLogger("triage.smtp")

# Replies, with RFC 3463 enhanced status codes.
REPLY_RCPT_OK = "250 2.1.5 Recipient ok"
REPLY_STORED = "250 2.0.0 Stored"
REPLY_DUPLICATE = "250 2.0.0 Already stored"
REPLY_TRY_LATER = "451 4.3.0 Local error, please try again later"
REPLY_UNKNOWN_RECIPIENT = "550 5.1.1 Recipient not accepted here"
REPLY_TOO_BIG = "552 5.3.4 Message too big"
REPLY_EMPTY = "554 5.6.0 Empty message"

# aiosmtpd answers an oversize message itself: at MAIL for a too-large SIZE=, after DATA for
# too much data, and with "Line too long" for a line over the line limit, which our servers
# set to the size limit, so such a line only comes in an oversize message.
AIOSMTPD_TOO_BIG = ("552 Error", "500 Line too long")


class StoreHandler:
    """aiosmtpd handler: accept mail for our recipients only, store it, then answer."""

    def __init__(self, engine: Engine, *, recipients: tuple[str, ...], domains: tuple[str, ...], max_bytes: int):
        self.engine = engine
        self.recipients = frozenset(address.casefold() for address in recipients)
        self.domains = frozenset(domain.casefold().lstrip("@") for domain in domains)
        self.max_bytes = max_bytes

    def accepts(self, address: str) -> bool:
        """True for a configured address, or any local part at a configured domain."""
        local, at, domain = address.casefold().rpartition("@")
        return address.casefold() in self.recipients or bool(local and at and domain in self.domains)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if not self.accepts(address):
            # The domain tells an operator what was misaddressed; the address itself is not logged.
            log.info("rcpt refused peer=%s domain=%r code=550", peer_ip(session), address.rpartition("@")[2][:255])
            return REPLY_UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return REPLY_RCPT_OK

    async def handle_DATA(self, server, session, envelope) -> str:
        # The bytes as received, dot-unstuffed (RFC 5321 4.5.2), whatever decode_data says.
        raw: bytes = envelope.original_content
        protocol = "lmtp" if isinstance(server, LMTP) else "smtp"
        reply = await self.store(raw, f"{protocol}:{peer_ip(session)}")
        log.info("data peer=%s protocol=%s size=%d rcpts=%d code=%s reply=%r",
                 peer_ip(session), protocol, len(raw), len(envelope.rcpt_tos), reply[:3], reply[10:])
        # RFC 2033 4.2: after DATA an LMTP server gives one reply per accepted recipient.
        if protocol == "lmtp":
            return "\r\n".join([reply] * len(envelope.rcpt_tos))
        return reply

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd would echo the error's text to the client; it goes to our log instead.
        log.error("session error %s", type(error).__name__, exc_info=error)
        return REPLY_TRY_LATER

    async def store(self, raw: bytes, source: str) -> str:
        """The reply for ``raw``: stored (or already stored) after commit, else why not."""
        if len(raw) > self.max_bytes:
            return REPLY_TOO_BIG
        if not raw or raw.isspace():
            return REPLY_EMPTY
        try:
            stored = await asyncio.to_thread(self.store_committed, raw, source)
        except SQLAlchemyError as error:
            log.warning("store failed source=%s error=%s", source, describe(error))
            return REPLY_TRY_LATER
        return REPLY_STORED if stored else REPLY_DUPLICATE

    def store_committed(self, raw: bytes, source: str) -> bool:
        """Store ``raw`` in a transaction of its own, committed before this returns."""
        with Session(self.engine) as session, session.begin():
            return store_message(session, raw, source=source)


class PasswordAuthenticator:
    """AUTH PLAIN and LOGIN against the one configured username and password."""

    def __init__(self, username: str, password: str):
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        success = isinstance(auth_data, LoginPassword) and (
            hmac.compare_digest(auth_data.login, self.username)
            & hmac.compare_digest(auth_data.password, self.password))
        log.info("auth peer=%s mechanism=%s success=%s", peer_ip(session), mechanism, success)
        return AuthResult(success=success, handled=False)


class _SizeBoundServer:
    """Mixin for aiosmtpd's SMTP and LMTP: only the size limit bounds a message, with 552 5.3.4."""

    def __init__(self, handler, *, data_size_limit: int, **kwargs):
        # RFC 5321 4.5.3.1 asks receivers to avoid length limits where they can, and real
        # mail has lines longer than 1,000 octets; memory stays bounded by the size limit.
        self.line_length_limit = data_size_limit
        super().__init__(handler, data_size_limit=data_size_limit, **kwargs)

    async def push(self, status) -> None:
        if isinstance(status, str) and status.startswith(AIOSMTPD_TOO_BIG):
            status = REPLY_TOO_BIG
        await super().push(status)


class SMTPServer(_SizeBoundServer, SMTP):
    """SMTP as aiosmtpd speaks it, with our size bound."""


class LMTPServer(_SizeBoundServer, LMTP):
    """LMTP as aiosmtpd speaks it (LHLO, a reply per recipient), with our size bound."""


class ReceiverController(Controller):
    """aiosmtpd's threaded controller, serving SMTP or LMTP through our server classes."""

    def __init__(self, handler: StoreHandler, *, lmtp: bool, **kwargs):
        self.server_class = LMTPServer if lmtp else SMTPServer
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return self.server_class(self.handler, **self.SMTP_kwargs)


def start_receiver(settings: Settings, engine: Engine) -> Controller:
    """Listen as configured, in a thread of its own, until the caller's ``stop()``."""
    options = server_options(settings)
    handler = StoreHandler(engine, recipients=settings.smtp_recipients, domains=settings.smtp_domains,
                           max_bytes=settings.smtp_max_bytes)
    # The greeting's name is looked up once here rather than for every connection.
    controller = ReceiverController(handler, lmtp=settings.smtp_lmtp, hostname=settings.smtp_host,
                                    port=settings.smtp_port, server_hostname=socket.getfqdn(), **options)
    try:
        controller.start()
    except OSError as error:
        controller.loop.close()
        raise ConfigError(f"cannot listen on {settings.smtp_host}:{settings.smtp_port}: {error}") from error
    log.info("listening protocol=%s host=%s port=%d tls=%s auth=%s", "lmtp" if settings.smtp_lmtp else "smtp",
             settings.smtp_host, settings.smtp_port, "tls_context" in options, "authenticator" in options)
    return controller


def server_options(settings: Settings) -> dict:
    """aiosmtpd's SMTP parameters for the size limit, STARTTLS and AUTH."""
    options: dict = {"data_size_limit": settings.smtp_max_bytes}
    tls = tls_context(settings)
    if tls is not None:
        options["tls_context"] = tls
    if settings.smtp_username is None:
        return options
    if settings.smtp_password is None:
        raise ConfigError("smtp_username is set but smtp_password is not")
    if tls is None and not is_loopback(settings.smtp_host):
        raise ConfigError("SMTP AUTH off the loopback needs STARTTLS: set smtp_tls_cert and smtp_tls_key")
    options.update(auth_required=True, auth_require_tls=tls is not None,
                   authenticator=PasswordAuthenticator(settings.smtp_username,
                                                       settings.smtp_password.get_secret_value()))
    return options


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server context for STARTTLS, or None when no certificate is configured."""
    if settings.smtp_tls_cert is None and settings.smtp_tls_key is None:
        return None
    if settings.smtp_tls_cert is None or settings.smtp_tls_key is None:
        raise ConfigError("smtp_tls_cert and smtp_tls_key are set together or not at all")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    except OSError as error:
        raise ConfigError(f"cannot load the SMTP TLS certificate and key: {error}") from error
    return context


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where credentials never cross a network."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def describe(error: SQLAlchemyError) -> str:
    """The driver's error class and first line; SQLAlchemy's own text quotes the parameters, the mail."""
    cause = getattr(error, "orig", None) or error
    first_line = str(cause).split("\n", 1)[0]
    return f"{type(cause).__name__}: {first_line[:200]}"


def peer_ip(session) -> str:
    """The client's address from an aiosmtpd session (a socket address tuple on TCP)."""
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) else str(peer or "unknown")
