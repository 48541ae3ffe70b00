"""The queue worker: claim due messages, triage each from its raw bytes, store the result.

The loop here is the one place that owns per-message failure (STYLE habit 3): an error
is recorded with its attempt and the message is queued again after the retry policy's
delay, or parked as failed for an operator; it is never dropped. A message's result row
and its ``done`` status are committed in one transaction, so a crash leaves either both
or neither, and an unfinished claim is taken again when its lease runs out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from triage.db.engine import make_engine
from triage.db.models import Message, utcnow
from triage.db.queries import claim_batch, fail_message, finish_message
from triage.model_ops import load_or_train
from triage.output import result_record
from triage.pipeline import TriageContext, context_for, triage
from triage.retry import RetryPolicy
from triage.settings import Settings

log = logging.getLogger("triage.worker")

IDLE_SECONDS = 1.0


def process_batch(engine: Engine, context: TriageContext, worker_id: str, limit: int = 32,
                  lease_seconds: float = 300, policy: RetryPolicy = RetryPolicy()) -> int:
    """Claim up to ``limit`` messages in one transaction and process each; how many were claimed."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        claimed = claim_batch(session, worker_id, limit, lease_seconds)
    for message in claimed:
        process_one(engine, context, worker_id, message, policy)
    return len(claimed)


def process_one(engine: Engine, context: TriageContext, worker_id: str, message: Message,
                policy: RetryPolicy) -> None:
    """Triage one claimed message and commit its result, or record why it failed."""
    try:
        row = triage_row(message, context)
        with Session(engine) as session, session.begin():
            if not finish_message(session, message.id, worker_id, row):
                log.warning("message %s was claimed again by another worker; result left to it", message.id)
                session.rollback()
    except Exception as error:  # noqa: BLE001 - the one loop that owns per-message failure
        decision = policy.decide(message.attempts)
        retry_at = utcnow() + timedelta(seconds=decision.delay_seconds) if decision.retry else None
        log.warning("message %s failed (attempt %s, %s): %s: %s", message.id, message.attempts,
                    "retrying" if decision.retry else "parked", type(error).__name__, error)
        with Session(engine) as session, session.begin():
            fail_message(session, message.id, worker_id, f"{type(error).__name__}: {error}", retry_at)


def triage_row(message: Message, context: TriageContext) -> dict:
    """The triage_result columns for ``message``: the summary fields and the full JSON record."""
    record = result_record(message.source, triage(message.raw, context))
    summary = {key: record[key] for key in ("model_version", "topic", "urgency", "team", "route_reason",
                                            "language", "needs_review")}
    return {**summary, "result_json": json.dumps(record, ensure_ascii=False, default=str)}


def worker_id(index: int = 0) -> str:
    """A name for one worker that is unique across hosts and processes: host:pid:index."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"[:128]


def run_worker(settings: Settings, stop_event: threading.Event, index: int = 0,
               context: TriageContext | None = None, policy: RetryPolicy = RetryPolicy()) -> None:
    """Process batches until ``stop_event`` is set, waiting briefly whenever nothing is due.

    A batch in hand is finished before stopping; rows claimed but not finished (a crash)
    are claimed again once their lease expires.
    """
    engine = make_engine(settings.database_url)
    context = context or context_for(settings, load_or_train(settings))
    name = worker_id(index)
    try:
        while not stop_event.is_set():
            if process_batch(engine, context, name, policy=policy) == 0:
                stop_event.wait(IDLE_SECONDS)
    finally:
        engine.dispose()
