"""One settings object, read from ``TRIAGE_*`` environment variables and an optional TOML file.

The TOML file is named by ``TRIAGE_CONFIG`` (default ``triage.toml`` in the working
directory, used only if present).  Environment variables win over the file.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every knob of the service, each with its default and what it changes."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="forbid")

    database_url: str = Field(
        "sqlite:///triage.db",
        description="SQLAlchemy URL of the message store. Default: a SQLite file "
        "triage.db in the working directory; use postgresql+psycopg://... for several workers.",
    )
    max_message_bytes: int = Field(
        50 * 1024 * 1024,
        description="Largest raw message accepted (bytes); a larger one is refused with an error.",
    )
    max_headers: int = Field(
        1000, description="Header lines read from the top of a message; later ones are ignored with a warning."
    )
    max_mime_parts: int = Field(
        100,
        description="Multipart and message/rfc822 containers read per message (bounds nesting); "
        "the rest of the message is dropped with a warning.",
    )
    max_text_chars: int = Field(
        1_000_000, description="Characters of body text kept per message; the rest is dropped with a warning."
    )

    routing_file: Path = Field(
        Path(__file__).with_name("routing.toml"),
        description="Routing rules (TOML). Default: TAXONOMY.md's table shipped with the package.",
    )
    templates_dir: Path = Field(
        Path(__file__).resolve().parents[1] / "templates",
        description="Reply templates, one folder per language. Default: the checkout's templates/.",
    )
    models_dir: Path = Field(
        Path("models"),
        description="Where trained models live (one folder per version, ACTIVE names the one in use). "
        "Rebuilt by `triage train`; never committed.",
    )
    corpus_dir: Path = Field(
        Path(__file__).resolve().parents[1] / "fixtures" / "corpus", description="The labeled corpus `triage train` uses when no --data is given."
    )
    languages: tuple[str, ...] = Field(
        ("en", "ru", "es", "de", "fr", "it", "pt", "zh"),
        description="Languages the detector may answer (ISO 639-1); others are reported as the closest of these.",
    )
    review_threshold: float = Field(
        0.5, description="Topic confidence below which a message is flagged needs_review for an agent."
    )

    # Logs of the long-running commands (`triage worker`, `triage run`): one line per event
    # with its context fields, never message text, addresses or secrets.
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text for people, or json: one object per line with ts, level, logger, "
        "event and context fields (message_id, worker, attempt, status, duration_ms). `--log-format` wins."
    )

    # Queue workers (`triage worker`, `triage run`): each a process of its own, claiming
    # due messages in batches with a lease.
    worker_batch_size: int = Field(
        10, gt=0, description="Messages one worker claims at a time; the rest of a batch is given back on SIGTERM."
    )
    worker_lease_seconds: float = Field(
        300, gt=0, description="How long a claim holds: a message still processing after this (its worker "
        "died) is claimed again. Keep it well above the time one batch takes."
    )
    worker_poll_seconds: float = Field(
        0.2, gt=0, description="How often an idle worker looks for due messages on SQLite, where nothing "
        "wakes it; the claim query is indexed, so a short interval is cheap."
    )
    worker_listen_seconds: float = Field(
        1.0, gt=0, description="On PostgreSQL an idle worker sleeps until a stored message NOTIFYs it, or at "
        "most this long (retries and expired leases send no notification)."
    )
    worker_max_attempts: int = Field(
        5, gt=0, description="Attempts before a failing message is parked as failed with its error; a "
        "permanent error (too large, unreadable) parks it at the first."
    )
    worker_retry_seconds: float = Field(
        30, ge=0, description="Delay before the first retry of a failed message, doubled for each further "
        "attempt up to an hour, spread by 10% jitter."
    )
    worker_stop_seconds: float = Field(
        60, gt=0, description="On SIGTERM, how long workers may take to finish the message in hand before "
        "they are killed; their claims then wait out the lease."
    )
    worker_model_check_seconds: float = Field(
        10, ge=0, description="How often the workers' supervisor looks whether `triage train` promoted "
        "another model; it then loads it and replaces the workers one at a time. 0: only on SIGHUP."
    )

    # SMTP/LMTP receiver (`triage receive`, `triage run`): where it listens, whose mail it
    # takes, how much, and optional STARTTLS and AUTH.  It answers 250 only after the raw
    # message is committed, and never relays.
    smtp_host: str = Field(
        "127.0.0.1", description="Address the receiver listens on. Default: loopback only; 0.0.0.0 for all."
    )
    smtp_port: int = Field(8025, description="Port the receiver listens on (25 needs root; a relay can forward).")
    smtp_lmtp: bool = Field(
        False, description="Speak LMTP (RFC 2033, for Postfix or Dovecot to deliver into) instead of SMTP."
    )
    smtp_recipients: tuple[str, ...] = Field(
        ("support@desk.example",),
        description="Addresses mail is accepted for (case-insensitive); any other recipient gets 550 5.1.1.",
    )
    smtp_domains: tuple[str, ...] = Field(
        (), description="Domains whose every address is accepted, besides smtp_recipients. Default: none."
    )
    smtp_max_bytes: int = Field(
        26_214_400,
        description="Largest message accepted (bytes, 25 MiB), advertised as SIZE; a larger one gets 552 5.3.4. "
        "Keep it at or below max_message_bytes.",
    )
    smtp_username: str | None = Field(
        None, description="When set with smtp_password, clients must AUTH (PLAIN or LOGIN) before MAIL. Default: off."
    )
    smtp_password: SecretStr | None = Field(
        None, description="Password for smtp_username; from the environment or a protected file, never logged."
    )
    smtp_tls_cert: Path | None = Field(
        None, description="PEM certificate (chain) offered by STARTTLS; with smtp_tls_key. Default: no STARTTLS. "
        "With AUTH, TLS is then required for AUTH; without TLS, AUTH is allowed on a loopback address only."
    )
    smtp_tls_key: Path | None = Field(None, description="PEM private key of smtp_tls_cert.")

    # IMAP poller (`triage poll`): one mailbox, read folder by folder into the message table.
    # Credentials: imap_password, or OAuth2 (XOAUTH2) with a token from a command or a file;
    # exactly one of the three.  Secrets come from the environment or a protected file and
    # are never logged.  The poller never deletes or expunges anything on the server.
    imap_host: str | None = Field(None, description="IMAP server name. Default: none (`triage poll` refuses to start).")
    imap_port: int = Field(993, description="IMAP server port: 993 for implicit TLS, 143 for plain text.")
    imap_ssl: bool = Field(True, description="Connect with TLS (certificate verified). False only for local tests.")
    imap_username: str | None = Field(None, description="Login name of the mailbox, also the OAuth2 user.")
    imap_password: SecretStr | None = Field(
        None, description="Password for LOGIN; from the environment or a protected file, never logged."
    )
    imap_oauth2_token_command: str | None = Field(
        None, description="Command (split like a shell, not run by one) whose stdout is an OAuth2 access token; "
        "run at every connection, for XOAUTH2. Default: none."
    )
    imap_oauth2_token_file: Path | None = Field(
        None, description="File holding an OAuth2 access token, kept fresh by another process; read at every "
        "connection, for XOAUTH2. Default: none."
    )
    imap_folders: tuple[str, ...] = Field(
        ("INBOX",),
        description="Folders read, one poller each; in the environment a JSON list: [\"INBOX\", \"Support\"].",
    )
    imap_since: date | None = Field(
        None, description="Read only messages whose internal date is on or after this day (IMAP SINCE); "
        "bounds the first backfill. Default: the whole folder."
    )
    imap_batch_size: int = Field(
        200, gt=0, description="Messages fetched and committed together, with the cursor, in one transaction."
    )
    imap_idle_seconds: int = Field(
        300, gt=0, le=29 * 60,
        description="IDLE is re-issued after this many seconds; RFC 2177 asks for at most 29 minutes.",
    )
    imap_poll_seconds: int = Field(
        60, gt=0, description="Seconds between checks when the server does not offer IDLE; also how often a "
        "waiting poller retries the mailbox lock another poller holds."
    )
    imap_mark_seen: bool = Field(
        False, description="After the commit, flag read messages \\Seen. Default: left unread."
    )
    imap_add_keyword: str | None = Field(
        None, description="After the commit, add this keyword to read messages, e.g. $Triaged. Default: none."
    )
    imap_move_to: str | None = Field(
        None, description="After the commit, MOVE read messages to this folder (created if missing) when the "
        "server offers MOVE; without MOVE nothing is moved. Default: left in place."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("TRIAGE_CONFIG", "triage.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))
