"""The queue worker on SQLite and the real PostgreSQL: each message triaged exactly once.

A permanent failure is parked at once and a transient one retried after its delay, with the
error kept; stopping gives unstarted claims back; a claim whose lease ran out is taken again;
two workers never triage the same message.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text, update
from sqlmodel import Session, select

from triage.db.engine import make_engine
from triage.db.models import Message, MessageStatus, TriageRow, utcnow
from triage.db.queries import claim_batch
from triage.db.store import store_message
from triage.pipeline import context_for
from triage.retry import RetryPolicy
from triage.settings import Settings
from triage.worker import Finished, commit_finished, process_batch, triage_row

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


def impatient_engine(url: str):
    """An engine like a worker's that gives up waiting for a lock after 100 ms, so a lock is a quick error."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def wait_briefly(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=100" if url.startswith("sqlite") else "SET lock_timeout = 100")
        cursor.close()
        if not url.startswith("sqlite"):
            connection.commit()

    return engine


@contextmanager
def lock_held_until_first_error(url: str, engine) -> Iterator[None]:
    """Hold the lock a worker's result write needs, from another connection, until ``engine`` hits an error.

    SQLite: the database's write lock (its only one). PostgreSQL: the triage_result table.
    Released at the worker's first error, so that recording the failure can go through.
    """
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder_engine = make_engine(url)
        holder = holder_engine.connect()
        holder.execute(text("LOCK TABLE triage_result IN ACCESS EXCLUSIVE MODE"))
    errors: list[str] = []

    def release(context) -> None:
        errors.append(type(context.original_exception).__name__)
        if len(errors) == 1:
            holder.execute("COMMIT") if isinstance(holder, sqlite3.Connection) else holder.commit()

    event.listen(engine, "handle_error", release)
    try:
        yield
    finally:
        event.remove(engine, "handle_error", release)
        holder.close()
        if not url.startswith("sqlite"):
            holder_engine.dispose()
    assert errors, "the worker never met the lock"


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


@pytest.mark.parametrize(("raw", "error"), [
    (FIXTURES[0].read_bytes() + b"x" * 2000, "MessageTooLarge"),
    (b"", "UnreadableMessage"),
])
def test_permanent_error_parks_the_message_at_its_first_attempt(engine, trained_models, model, database_url, raw,
                                                               error):
    """A message over the byte limit, or without bytes, is parked failed at once with its error, not retried."""
    tiny = context_for(Settings(models_dir=trained_models, database_url=database_url, max_message_bytes=1000), model)
    with Session(engine) as session, session.begin():
        assert store_message(session, raw, source="test:bad")
    assert run_worker_until_idle(engine, tiny, policy=NO_WAIT) == 1
    (message,) = messages(engine)
    assert (message.status, message.attempts) == (MessageStatus.failed.value, 1)
    assert message.last_error.startswith(error)
    assert results(engine) == []


def test_transient_error_is_retried_after_its_delay_and_then_succeeds(engine, context, database_url):
    """A write that times out on a database lock leaves the message pending for a retry, not claimed before
    its delay; once due it is triaged, with two attempts counted and one result."""
    store_all(engine, distinct_messages(1))
    impatient = impatient_engine(database_url)
    with Session(impatient, expire_on_commit=False) as session, session.begin():
        (claimed,) = claim_batch(session, "w1", limit=1, lease_seconds=300)
    with lock_held_until_first_error(database_url, impatient):
        commit_finished(impatient, "w1", [Finished(claimed, triage_row(claimed, context), started=0.0)],
                        RetryPolicy(base_seconds=3600))
    (message,) = messages(engine)
    assert (message.status, message.attempts) == (MessageStatus.pending.value, 1)
    assert "lock" in message.last_error  # SQLite: database is locked; PostgreSQL: LockNotAvailable
    assert run_worker_until_idle(impatient, context) == 0, "claimed again before its retry delay"

    with Session(engine) as session, session.begin():
        session.execute(update(Message).values(lease_expires_at=utcnow()))  # the retry delay has passed
    assert run_worker_until_idle(impatient, context) == 1
    (message,) = messages(engine)
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.done.value, 2, None)
    assert [row.message_id for row in results(engine)] == [message.id]
    impatient.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_result_the_database_refuses_fails_only_its_own_message(engine, context):
    """A batch whose results are committed together, one of them too long for its column: the others are
    done, and that one is parked at once with PostgreSQL's error."""
    store_all(engine, distinct_messages(3))
    with Session(engine, expire_on_commit=False) as session, session.begin():
        claimed = claim_batch(session, "w1", limit=3, lease_seconds=300)
    finished = [Finished(message, triage_row(message, context), started=0.0) for message in claimed]
    finished[1] = Finished(claimed[1], {**finished[1].row, "topic": "x" * 65}, started=0.0)
    commit_finished(engine, "w1", finished, NO_WAIT)
    first, refused, third = messages(engine)
    assert (first.status, third.status) == (MessageStatus.done.value, MessageStatus.done.value)
    assert (refused.status, refused.attempts) == (MessageStatus.failed.value, 1)
    assert refused.last_error.startswith("StringDataRightTruncation")
    assert sorted(row.message_id for row in results(engine)) == [first.id, third.id]


def test_stopping_gives_back_the_claims_not_started_without_counting_an_attempt(engine, context):
    """A worker told to stop releases the rest of its batch as pending, attempts as before the claim."""
    store_all(engine, distinct_messages(4))
    stop = threading.Event()
    stop.set()
    assert process_batch(engine, context, "w1", limit=3, stop=stop) == 3
    assert {(message.status, message.attempts, message.claimed_by) for message in messages(engine)} == {
        (MessageStatus.pending.value, 0, None)}
    assert run_worker_until_idle(engine, context) == 4
    assert {(message.status, message.attempts) for message in messages(engine)} == {(MessageStatus.done.value, 1)}


def test_a_message_its_workers_keep_dying_on_is_parked_after_the_last_attempt(engine, context):
    """An expired claim that used up its attempts (its worker died each time) is parked, not claimed again."""
    store_all(engine, distinct_messages(2))
    for _ in range(NO_WAIT.max_attempts):
        with Session(engine) as session, session.begin():
            session.execute(update(Message).where(Message.id == 1).values(status="pending", lease_expires_at=None))
            claim_batch(session, "dying", limit=1, lease_seconds=0)
    assert run_worker_until_idle(engine, context) == 1
    parked, other = messages(engine)
    assert (parked.status, parked.attempts) == (MessageStatus.failed.value, NO_WAIT.max_attempts)
    assert parked.last_error.startswith("abandoned")
    assert other.status == MessageStatus.done.value


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
