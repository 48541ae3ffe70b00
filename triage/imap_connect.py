"""The IMAP adapter: a logged-in connection from the settings, IDLE, IMAP failures as our errors.

Login is LOGIN with ``imap_password``, or AUTHENTICATE XOAUTH2 with an access token from
``imap_oauth2_token_command`` (its stdout) or ``imap_oauth2_token_file``, fetched again at
every connection since such tokens live about an hour.  Neither the password nor the
token is ever logged or put into an error message.
"""

from __future__ import annotations

import logging
import shlex
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from triage.errors import ConfigError, ImapError, ImapLoginError
from triage.settings import Settings

log = logging.getLogger("triage.imap")

# Seconds a connect or a single read may take; a silent, dead connection ends after it.
SOCKET_TIMEOUT = 120.0
TOKEN_COMMAND_TIMEOUT = 60.0
XOAUTH2 = "AUTH=XOAUTH2"
# How often an idling poller looks at its stop event, in seconds.
IDLE_TICK = 1.0


@contextmanager
def imap_errors() -> Iterator[None]:
    """Turn IMAPClient's, imaplib's and the socket's errors into ``ImapError``."""
    try:
        yield
    except LoginError as error:
        raise ImapLoginError(f"login refused: {error}") from error
    except IMAPClientError as error:
        raise ImapError(f"{type(error).__name__}: {error}") from error
    except OSError as error:
        raise ImapError(f"connection: {type(error).__name__}: {error}") from error


def check_settings(settings: Settings) -> None:
    """Refuse settings the poller cannot start with: no server, no user, not one credential."""
    if not settings.imap_host or not settings.imap_username:
        raise ConfigError("imap_host and imap_username are required to poll IMAP")
    credentials = [settings.imap_password, settings.imap_oauth2_token_command, settings.imap_oauth2_token_file]
    if sum(value is not None for value in credentials) != 1:
        raise ConfigError("set exactly one of imap_password, imap_oauth2_token_command, imap_oauth2_token_file")


def connect(settings: Settings) -> IMAPClient:
    """A connection to the configured server, logged in; ``ImapError`` when that fails."""
    with imap_errors():
        context = ssl.create_default_context() if settings.imap_ssl else None
        client = IMAPClient(settings.imap_host, port=settings.imap_port, ssl=settings.imap_ssl,
                            ssl_context=context, timeout=SOCKET_TIMEOUT)
        try:
            login(client, settings)
        except BaseException:
            client.shutdown()
            raise
    return client


def login(client: IMAPClient, settings: Settings) -> None:
    """LOGIN with the password, or XOAUTH2 when the server offers it and a token is configured."""
    token = oauth2_token(settings)
    if token is None:
        client.login(settings.imap_username, settings.imap_password.get_secret_value())
        log.info("logged in host=%s user=%s auth=password", settings.imap_host, settings.imap_username)
        return
    if not client.has_capability(XOAUTH2):
        raise ImapLoginError(f"the server does not offer {XOAUTH2}")
    client.oauth2_login(settings.imap_username, token)
    log.info("logged in host=%s user=%s auth=xoauth2", settings.imap_host, settings.imap_username)


def oauth2_token(settings: Settings) -> str | None:
    """The access token from the configured command or file, stripped; None for password login."""
    if settings.imap_oauth2_token_command:
        token = _run_token_command(settings.imap_oauth2_token_command)
    elif settings.imap_oauth2_token_file:
        try:
            token = settings.imap_oauth2_token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ImapLoginError(f"OAuth2 token file unreadable: {type(error).__name__}") from error
    else:
        return None
    if not token:
        raise ImapLoginError("the OAuth2 token command or file gave an empty token")
    return token


def _run_token_command(command: str) -> str:
    # Its output is the secret, so neither stdout nor stderr goes into the error.
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True,
                              timeout=TOKEN_COMMAND_TIMEOUT, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise ImapLoginError(f"OAuth2 token command failed to run: {type(error).__name__}") from error
    if done.returncode != 0:
        raise ImapLoginError(f"OAuth2 token command exited with status {done.returncode}")
    return done.stdout.strip()


def idle(client: IMAPClient, seconds: float, stop: threading.Event) -> None:
    """IDLE (RFC 2177) until the server reports a change, ``seconds`` pass, or ``stop`` is set.

    A change is any numbered response (EXISTS, EXPUNGE, FETCH); the caller then searches
    again, which is cheap.  A BYE, or a socket that closed, is an ``ImapError``.
    """
    client.idle()
    deadline, empty_wakeups = time.monotonic() + seconds, 0
    while not stop.is_set() and time.monotonic() < deadline:
        started = time.monotonic()
        responses = client.idle_check(timeout=IDLE_TICK)
        if any(response[:1] == (b"BYE",) for response in responses):
            raise ImapError("the server closed the connection (BYE)")
        if any(isinstance(response[0], int) for response in responses):
            break
        # idle_check() swallows EOF: a wake-up with nothing to read, twice, is a closed socket.
        empty_wakeups = empty_wakeups + 1 if not responses and time.monotonic() - started < IDLE_TICK / 2 else 0
        if empty_wakeups >= 2:
            raise ImapError("the connection closed during IDLE")
    client.idle_done()
