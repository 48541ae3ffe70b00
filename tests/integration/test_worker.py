"""The queue worker on SQLite and the real PostgreSQL: each message triaged exactly once.

Failures are retried by the policy and then parked with their error; a claim whose lease
ran out is taken again; two workers never triage the same message.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from triage.db.models import Message, MessageStatus, TriageRow
from triage.db.queries import claim_batch
from triage.db.store import store_message
from triage.pipeline import context_for
from triage.retry import RetryPolicy
from triage.settings import Settings
from triage.worker import process_batch

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "eml").glob("*.eml"))
NO_WAIT = RetryPolicy(max_attempts=3, base_seconds=0)


@pytest.fixture
def context(trained_models, model, database_url):
    """The pipeline context a worker builds from its settings, with the model trained for the run."""
    return context_for(Settings(models_dir=trained_models, database_url=database_url), model)


def store_all(engine, raws: list[bytes]) -> None:
    with Session(engine) as session, session.begin():
        for number, raw in enumerate(raws):
            assert store_message(session, raw, source=f"test:{number}")


def distinct_messages(count: int) -> list[bytes]:
    """``count`` different messages: the fixtures, with a numbered header so each copy is new."""
    return [b"X-Copy: %d\r\n" % number + FIXTURES[number % len(FIXTURES)].read_bytes() for number in range(count)]


def run_worker_until_idle(engine, context, worker_id: str = "w1", policy: RetryPolicy = NO_WAIT,
                          limit: int = 32) -> int:
    """Process batches until none is due; how many claims were made in all."""
    total = 0
    while claimed := process_batch(engine, context, worker_id, limit=limit, policy=policy):
        total += claimed
    return total


def messages(engine) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)).all())


def results(engine) -> list[TriageRow]:
    with Session(engine) as session:
        return list(session.exec(select(TriageRow)).all())


def test_every_stored_message_gets_one_result_and_is_done(engine, context, model):
    """Thirty fixture messages end done, each with exactly one triage row naming the model version."""
    store_all(engine, [path.read_bytes() for path in FIXTURES[:30]])
    assert run_worker_until_idle(engine, context) == 30
    rows = results(engine)
    assert sorted(row.message_id for row in rows) == [message.id for message in messages(engine)]
    assert {message.status for message in messages(engine)} == {MessageStatus.done.value}
    assert {row.model_version for row in rows} == {model.version}
    record = json.loads(rows[0].result_json)
    assert (record["topic"], record["model_version"]) == (rows[0].topic, model.version)


def test_failing_message_is_retried_then_parked_with_its_error(engine, trained_models, model, database_url):
    """A message over the byte limit fails each attempt, is retried, and is parked failed with the error."""
    tiny = context_for(Settings(models_dir=trained_models, database_url=database_url, max_message_bytes=1000), model)
    store_all(engine, [FIXTURES[0].read_bytes() + b"x" * 2000])
    assert run_worker_until_idle(engine, tiny, policy=NO_WAIT) == 3
    (message,) = messages(engine)
    assert (message.status, message.attempts) == (MessageStatus.failed.value, 3)
    assert "MessageTooLarge" in message.last_error
    assert results(engine) == []


def test_retry_waits_for_the_policy_delay(engine, trained_models, model, database_url):
    """After a failure the message is pending again but not claimed before its delay has passed."""
    tiny = context_for(Settings(models_dir=trained_models, database_url=database_url, max_message_bytes=1000), model)
    store_all(engine, [FIXTURES[0].read_bytes() + b"x" * 2000])
    assert run_worker_until_idle(engine, tiny, policy=RetryPolicy(base_seconds=3600)) == 1
    (message,) = messages(engine)
    assert (message.status, message.attempts) == (MessageStatus.pending.value, 1)
    assert "MessageTooLarge" in message.last_error


def test_expired_lease_is_claimed_again_and_a_live_one_is_not(engine, context):
    """A claim whose lease ran out is taken by another worker; a claim still leased is left alone."""
    store_all(engine, distinct_messages(2))
    with Session(engine) as session, session.begin():
        claim_batch(session, "alive", limit=1, lease_seconds=300)
        claim_batch(session, "crashed", limit=1, lease_seconds=0)
    assert run_worker_until_idle(engine, context, worker_id="second") == 1
    alive, expired = messages(engine)
    assert (expired.status, expired.attempts, expired.claimed_by) == (MessageStatus.done.value, 2, "second")
    assert (alive.status, alive.claimed_by) == (MessageStatus.processing.value, "alive")
    assert [row.message_id for row in results(engine)] == [expired.id]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_triage_each_message_exactly_once(engine, context):
    """Two worker threads over 200 messages on PostgreSQL claim disjoint rows: one claim, one result each."""
    store_all(engine, distinct_messages(200))
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        run_worker_until_idle(engine, context, worker_id=name, limit=5)

    workers = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    rows, stored = results(engine), messages(engine)
    assert sorted(row.message_id for row in rows) == [message.id for message in stored]
    assert {(message.status, message.attempts) for message in stored} == {(MessageStatus.done.value, 1)}
    assert {message.claimed_by for message in stored} == {"w1", "w2"}
