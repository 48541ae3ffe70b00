"""Log lines as text or JSON: the same event and context fields, and database errors without their parameters."""

from __future__ import annotations

import json
import logging
import sys

from sqlalchemy.exc import OperationalError

from triage.logs import JsonFormatter, TextFormatter, error_text


def record(**context) -> logging.LogRecord:
    """A record as ``log.info("message done", extra=context)`` makes it."""
    made = logging.getLogger("triage.worker").makeRecord("triage.worker", logging.INFO, __file__, 1, "message done",
                                                         (), None, extra=context)
    made.created = 1795567948.25
    return made


def test_a_json_line_has_the_standard_fields_then_the_context():
    """One JSON object: ts in UTC to the millisecond, level, logger, event, pid, and the fields passed in extra."""
    line = json.loads(JsonFormatter().format(record(message_id=7, worker="vm:1:0", duration_ms=9.5)))
    assert line == {"ts": "2026-11-25T00:52:28.250+00:00", "level": "INFO", "logger": "triage.worker",
                    "event": "message done", "pid": line["pid"], "message_id": 7, "worker": "vm:1:0",
                    "duration_ms": 9.5}


def test_a_text_line_ends_with_the_context_as_key_value_pairs():
    """The human form carries the same context, after the event."""
    assert TextFormatter().format(record(message_id=7, status="done")).endswith(
        "INFO triage.worker message done message_id=7 status=done")


def test_an_exception_goes_into_the_json_line_as_one_field():
    """A logged traceback stays inside its JSON object, so every line still parses."""
    failed = record()
    try:
        raise ValueError("boom")
    except ValueError:
        failed.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in line["exc"] and "\n" not in JsonFormatter().format(failed)


def test_a_database_error_is_described_without_the_statement_or_its_parameters():
    """SQLAlchemy's text quotes the SQL and its parameters (a whole message); the description has neither."""
    error = OperationalError("INSERT INTO message (raw) VALUES (?)", (b"Subject: secret",), Exception("disk full"))
    assert error_text(error) == "Exception: disk full"
    assert error_text(ValueError("x" * 900), limit=20) == "ValueError: xxxxxxxx"
