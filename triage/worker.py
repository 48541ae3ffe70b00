"""The queue worker: claim due messages, triage each from its raw bytes, store the result.

The loop here is the one place that owns per-message failure (STYLE habit 3): an error
is recorded with its attempt and the message is queued again after the retry policy's
delay, or parked as failed for an operator; it is never dropped. The result rows of a
batch and their ``done`` statuses are committed in one transaction, so a crash leaves
either both or neither, and an unfinished claim is taken again when its lease runs out.

Stopping (``stop`` set by SIGTERM or SIGINT) finishes the message in hand and gives the
rest of the batch back as pending without counting an attempt.  A database that goes away
is waited out with a backoff, and the claims held when it went are given back once it
answers again.  One worker is one process: ``triage.supervisor`` starts them.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from triage.db.engine import make_engine
from triage.db.models import Message, utcnow
from triage.db.queries import claim_batch, fail_message, finish_messages, park_abandoned, release_claims
from triage.errors import TriageError, UnreadableMessage
from triage.logs import error_text
from triage.output import result_record
from triage.pipeline import TriageContext, triage
from triage.retry import RetryPolicy, backoff_seconds, is_transient
from triage.settings import Settings
from triage.wakeup import waiter_for

log = logging.getLogger("triage.worker")


@dataclass(frozen=True)
class Claims:
    """How one worker claims: batch size, lease, and the retry policy for failures."""

    limit: int = 10
    lease_seconds: float = 300
    policy: RetryPolicy = RetryPolicy()

    @classmethod
    def of(cls, settings: Settings) -> Claims:
        return cls(limit=settings.worker_batch_size, lease_seconds=settings.worker_lease_seconds,
                   policy=RetryPolicy(max_attempts=settings.worker_max_attempts,
                                      base_seconds=settings.worker_retry_seconds))


@dataclass(frozen=True)
class Finished:
    """A message triaged and not yet committed: its triage_result columns and when its work began."""

    message: Message
    row: dict
    started: float


def process_batch(engine: Engine, context: TriageContext, worker_id: str, limit: int = 10,
                  lease_seconds: float = 300, policy: RetryPolicy = RetryPolicy(),
                  stop: threading.Event | None = None) -> int:
    """Claim up to ``limit`` messages, triage each, commit the results together; how many were claimed.

    One commit per batch rather than per message spares the database most of its share of the work.
    When ``stop`` is set between two messages, the results so far are committed and the
    messages not started are given back.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        park_abandoned(session, policy.max_attempts)
        claimed = claim_batch(session, worker_id, limit, lease_seconds)
    finished = []
    for position, message in enumerate(claimed):
        if stop is not None and stop.is_set():
            give_back(engine, worker_id, [later.id for later in claimed[position:]])
            break
        if (item := triage_one(engine, worker_id, message, context, policy)) is not None:
            finished.append(item)
    commit_finished(engine, worker_id, finished, policy)
    return len(claimed)


def triage_one(engine: Engine, worker_id: str, message: Message, context: TriageContext,
               policy: RetryPolicy) -> Finished | None:
    """The message triaged, or None when it failed and its failure was recorded."""
    started = time.perf_counter()
    try:
        return Finished(message, triage_row(message, context), started)
    except Exception as error:  # noqa: BLE001 - the one loop that owns per-message failure
        record_failure(engine, worker_id, message, error, policy, started)
        return None


def commit_finished(engine: Engine, worker_id: str, finished: list[Finished], policy: RetryPolicy) -> None:
    """Commit the results and done statuses of ``finished`` in one transaction.

    When the database refuses the batch for good (a value it will never take), the results
    are committed one by one, so that only the message at fault fails; when it refuses one
    message, or for the moment (a lock timeout), the failure is recorded for the policy.
    """
    if not finished:
        return
    try:
        with Session(engine) as session, session.begin():
            done = set(finish_messages(session, worker_id, {item.message.id: item.row for item in finished}))
    except DBAPIError as error:
        if len(finished) > 1 and not is_transient(error):
            for item in finished:
                commit_finished(engine, worker_id, [item], policy)
            return
        for item in finished:
            record_failure(engine, worker_id, item.message, error, policy, item.started)
        return
    for item in finished:
        fields = {"message_id": item.message.id, "worker": worker_id, "attempt": item.message.attempts}
        if item.message.id in done:
            log.info("message done", extra={**fields, "status": "done", "duration_ms": elapsed_ms(item.started)})
        else:
            log.warning("claim lost; result left to the worker holding it", extra=fields)


def record_failure(engine: Engine, worker_id: str, message: Message, error: Exception, policy: RetryPolicy,
                   started: float) -> None:
    """Queue the message again after the policy's delay, or park it failed; the error is kept.

    The log names the error's class only (and our own errors' text): another library's
    error text may quote the message.  The stored error is bounded and for operators.
    """
    decision = policy.decide(error, message.attempts)
    retry_at = utcnow() + timedelta(seconds=decision.delay_seconds) if decision.retry else None
    with Session(engine) as session, session.begin():
        fail_message(session, message.id, worker_id, error_text(error, limit=2000), retry_at)
    log.warning("message failed", extra={
        "message_id": message.id, "worker": worker_id, "attempt": message.attempts,
        "status": "pending" if decision.retry else "failed", "reason": decision.reason,
        "retry_in": round(decision.delay_seconds, 1) if decision.retry else None,
        "error": type(error).__name__, "detail": str(error)[:200] if isinstance(error, TriageError) else None,
        "duration_ms": elapsed_ms(started)})


def give_back(engine: Engine, worker_id: str, ids: list[int] | None = None) -> int:
    """Release this worker's unfinished claims (``ids``, or all) as pending; how many."""
    with Session(engine) as session, session.begin():
        released = release_claims(session, worker_id, ids)
    if released:
        log.info("claims released", extra={"worker": worker_id, "count": released})
    return released


def triage_row(message: Message, context: TriageContext) -> dict:
    """The triage_result columns for ``message``: the summary fields and the full JSON record."""
    if not isinstance(message.raw, bytes) or not message.raw:
        raise UnreadableMessage(f"message {message.id} has no raw bytes")
    record = result_record(message.source, triage(message.raw, context))
    summary = {key: record[key] for key in ("model_version", "topic", "urgency", "team", "route_reason",
                                            "language", "needs_review")}
    return {**summary, "result_json": json.dumps(record, ensure_ascii=False, default=str)}


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def worker_id(index: int = 0, pid: int | None = None) -> str:
    """A name for one worker that is unique across hosts and processes: host:pid:index."""
    return f"{socket.gethostname()}:{pid or os.getpid()}:{index}"[:128]


def run_worker(settings: Settings, stop: threading.Event, context: TriageContext, index: int = 0) -> None:
    """Process batches until ``stop`` is set, waiting for work whenever nothing is due.

    A database error (a restart, a lost connection) does not end the worker: it waits 0.5,
    1, 2 ... up to 30 seconds between tries, and once the database answers again it gives
    back the claims it held, which it can no longer vouch for.
    """
    engine = make_engine(settings.database_url)
    claims, name, waiter = Claims.of(settings), worker_id(index), waiter_for(settings)
    failures = 0
    log.info("worker started", extra={"worker": name})
    try:
        while not stop.is_set():
            try:
                if failures:
                    give_back(engine, name)
                claimed = process_batch(engine, context, name, claims.limit, claims.lease_seconds, claims.policy,
                                        stop)
                failures = 0
            except DBAPIError as error:
                failures += 1
                delay = backoff_seconds(failures, 0.5, 30)
                log.warning("database unavailable", extra={"worker": name, "error": error_text(error, 200),
                                                            "failures": failures, "retry_in": delay})
                stop.wait(delay)
                continue
            if claimed == 0:
                waiter.wait(stop)
    finally:
        waiter.close()
        engine.dispose()
        log.info("worker stopped", extra={"worker": name})
