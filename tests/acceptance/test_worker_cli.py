"""The real ``triage worker``, ``status``, ``show`` and ``reprocess`` commands, on SQLite and PostgreSQL.

On PostgreSQL, ``triage worker --concurrency 2`` runs two worker processes that triage
every message exactly once, stop cleanly on SIGTERM giving back what they had not
started, and survive one of them being killed: the parent starts another and the killed
one's messages are taken again at once, their leases ended by the parent.  Its JSON logs carry no mail text.
"""

from __future__ import annotations

import json
import os
from collections import Counter
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from classifiers.artifacts import MODEL_FILE, activate_version, active_version
from triage.db.engine import make_engine
from triage.db.models import Message, TriageRow
from triage.db.store import store_message
from triage.mail.parse import parse
from triage.pipeline import context_for
from triage.retry import RetryPolicy
from triage.settings import Settings
from triage.worker import process_batch
from tests.commands import run_triage
from tests.dovecot import wait_until

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "eml").glob("*.eml"))[:3]


@pytest.fixture
def environment(trained_models, tmp_path):
    """The environment of every command here: the run's model and a fresh SQLite store."""
    return {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_MODELS_DIR": str(trained_models),
            "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}"}


def statuses(environment: dict) -> list[str]:
    engine = make_engine(environment["TRIAGE_DATABASE_URL"])
    with Session(engine) as session:
        found = [message.status for message in session.exec(select(Message).order_by(Message.id))]
    engine.dispose()
    return found


def run_worker_until_done(environment: dict, count: int) -> int:
    """Start ``triage worker``, wait until ``count`` messages are done, stop it with SIGTERM."""
    worker = subprocess.Popen([sys.executable, "-m", "triage", "worker", "--concurrency", "2"], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while statuses(environment).count("done") < count and time.monotonic() < deadline:
        time.sleep(0.5)
    worker.send_signal(signal.SIGTERM)
    return worker.wait(timeout=60)


def park_one_failure(environment: dict) -> None:
    """Store a message over a tiny byte limit and let one attempt fail it for good."""
    url = environment["TRIAGE_DATABASE_URL"]
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        store_message(session, SAMPLES[0].read_bytes() + b"x" * 2000, source="too-large")
    tiny = context_for(Settings(database_url=url, max_message_bytes=1000), None)
    assert process_batch(engine, tiny, "test", policy=RetryPolicy(max_attempts=1)) == 1
    engine.dispose()


def test_worker_triages_the_queue_and_status_show_and_reprocess_report_it(environment):
    """Imported mail is triaged by the worker until SIGTERM; status, show and reprocess tell and fix the rest."""
    assert run_triage("import", *map(str, SAMPLES), env=environment).returncode == 0
    assert run_worker_until_done(environment, len(SAMPLES)) == 0
    park_one_failure(environment)

    status = run_triage("status", env=environment).stdout.decode()
    assert status.splitlines()[0] == "pending 0 processing 0 done 3 failed 1"
    assert "oldest pending: none" in status
    assert "failed 4 after 1 attempts: MessageTooLarge" in status

    record = json.loads(run_triage("show", "1", env=environment).stdout)
    assert record["source"] == str(SAMPLES[0]) and record["model_version"] and record["topic"]
    failed = run_triage("show", "4", env=environment).stdout.decode()
    assert "failed after 1 attempts; last error: MessageTooLarge" in failed
    missing = run_triage("show", "99", env=environment)
    assert missing.returncode == 2 and b"no message 99" in missing.stderr

    assert run_triage("reprocess", "--all-failed", env=environment).stdout.decode().strip() == "1 messages queued again"
    assert statuses(environment) == ["done", "done", "done", "pending"]


# --- Worker processes on PostgreSQL -------------------------------------------------------

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "eml").glob("*.eml"))


def distinct_mail(count: int) -> list[bytes]:
    """``count`` different messages: the fixtures in turn, each under a numbered header."""
    return [b"X-Copy: %d\r\n" % number + FIXTURES[number % len(FIXTURES)].read_bytes() for number in range(count)]


class Store:
    """The test's own view of the PostgreSQL queue: fill it, count it, read back what the workers did."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def fill(self, raws: list[bytes]) -> None:
        with Session(self.engine) as session, session.begin():
            for number, raw in enumerate(raws):
                store_message(session, raw, source=f"test:{number}")

    def done(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).where(Message.status == "done")).scalar_one()

    def claims(self) -> list[tuple[int, str]]:
        """(id, worker) of every message being processed."""
        with self.engine.connect() as connection:
            return list(connection.execute(select(Message.id, Message.claimed_by).where(Message.status == "processing")))

    def messages(self) -> list[Message]:
        with Session(self.engine) as session:
            return list(session.exec(select(Message).order_by(Message.id)))

    def results_per_message(self) -> Counter:
        """How many triage rows each message id has."""
        with Session(self.engine) as session:
            return Counter(session.exec(select(TriageRow.message_id)))

    def model_versions(self) -> list[tuple[int, str]]:
        """(message id, model version) of every triage result."""
        with Session(self.engine) as session:
            return list(session.exec(select(TriageRow.message_id, TriageRow.model_version)))

    def close(self) -> None:
        self.engine.dispose()


class Workers:
    """``triage worker --concurrency 2 --log-format json`` as a subprocess, its log in a file."""

    def __init__(self, environment: dict, log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "triage", "worker", "--concurrency", "2",
                                             "--log-format", "json"], env=environment, stdout=subprocess.DEVNULL,
                                            stderr=output)

    def events(self, name: str) -> list[dict]:
        return [line for line in log_lines(self.log) if line["event"] == name]

    def children(self, count: int = 2) -> list[int]:
        """The pids of the first ``count`` worker processes, once the parent has started them."""
        wait_until(lambda: len(self.events("worker process started")) >= count, f"{count} worker processes", 120)
        return [event["child_pid"] for event in self.events("worker process started")]

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=90)


def log_lines(log: Path) -> list[dict]:
    """Every line of a JSON log, parsed: a line that is not a JSON object fails the test."""
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def pid_of(worker_name: str | None) -> int:
    """The process id in a worker's name, host:pid:index."""
    return int(worker_name.split(":")[-2])


@pytest.fixture
def pg_environment(trained_models, database_url):
    """The environment of the worker commands: the run's model and the test's PostgreSQL database."""
    return {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_MODELS_DIR": str(trained_models),
            "TRIAGE_DATABASE_URL": database_url}


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_triage_each_message_once_and_stop_cleanly(pg_environment, store, tmp_path):
    """Stopped by SIGTERM mid-queue the workers exit 0 leaving nothing processing and no attempt counted for what
    they gave back; started again they finish: 300 messages, one result and one attempt each, by child processes."""
    raws = distinct_mail(300)
    store.fill(raws)
    first = Workers(pg_environment, tmp_path / "first.log")
    wait_until(lambda: store.done() >= 30, "30 messages done", 120)
    assert first.stop() == 0
    stored = store.messages()
    assert {message.status for message in stored} <= {"done", "pending"}
    assert {(message.attempts, message.claimed_by) for message in stored if message.status == "pending"} <= {(0, None)}

    second = Workers(pg_environment, tmp_path / "second.log")
    wait_until(lambda: store.done() == len(raws), "every message done", 120)
    assert second.stop() == 0
    stored = store.messages()
    assert {(message.status, message.attempts) for message in stored} == {("done", 1)}
    assert store.results_per_message() == Counter({message.id: 1 for message in stored})
    children = set(first.children()) | set(second.children())
    assert {pid_of(message.claimed_by) for message in stored} <= children
    assert not children & {first.process.pid, second.process.pid}, "workers must be processes of their own"

    lines = log_lines(first.log) + log_lines(second.log)
    assert all({"ts", "level", "logger", "event"} <= line.keys() for line in lines)
    done = Counter(line["message_id"] for line in lines if line["event"] == "message done")
    assert done == Counter({message.id: 1 for message in stored})
    assert_no_mail_text(lines, raws[:len(FIXTURES)])


def assert_no_mail_text(lines: list[dict], raws: list[bytes]) -> None:
    """No subject, sender address or line of the client's text of ``raws`` appears in any log line."""
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for raw in raws:
        email = parse(raw)
        secrets = [email.subject, email.from_address] + [line.strip() for line in email.new_text.splitlines()]
        leaked = [secret for secret in secrets if len(secret) >= 12 and secret in text]
        assert leaked == [], leaked


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_killed_worker_process_is_restarted_and_its_messages_are_triaged_without_waiting_for_the_lease(
        pg_environment, store, tmp_path):
    """SIGKILL to a worker holding claims: the parent ends their leases and starts another worker; the killed
    one's messages are taken again well before their hour-long lease would run out, each with one result."""
    store.fill(distinct_mail(200))
    workers = Workers({**pg_environment, "TRIAGE_WORKER_LEASE_SECONDS": "3600"}, tmp_path / "worker.log")
    victim = workers.children()[0]
    held = kill_while_holding_claims(victim, store)
    assert held, "the worker never held a claim"

    wait_until(lambda: store.done() == 200, "every message done", 120)
    assert len(workers.children(3)) == 3, "the killed worker was not replaced"
    assert workers.stop() == 0
    stored = store.messages()
    assert {message.status for message in stored} == {"done"}
    assert store.results_per_message() == Counter({message.id: 1 for message in stored})
    again = {message.id: (message.attempts, pid_of(message.claimed_by)) for message in stored if message.id in held}
    assert all(attempts == 2 and pid != victim for attempts, pid in again.values()), again
    died = workers.events("worker process died; restarting")
    assert [(event["child_pid"], event["exit"]) for event in died] == [(victim, "signal SIGKILL")]
    assert [event["messages"] for event in workers.events("claims of a dead worker expired")] == [len(held)]


def kill_while_holding_claims(pid: int, store: Store) -> set[int]:
    """SIGKILL worker ``pid`` at a moment it holds claimed messages; their ids.

    The worker is frozen with SIGSTOP while its claims are read, so it cannot finish them
    between the look and the kill; if it holds none just then, it runs a little longer.
    """
    for _ in range(400):
        os.kill(pid, signal.SIGSTOP)
        held = {message_id for message_id, worker in store.claims() if pid_of(worker) == pid}
        if held:
            os.kill(pid, signal.SIGKILL)
            return held
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    return set()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_sighup_workers_move_to_a_newly_promoted_model_and_skip_one_that_does_not_load(
        pg_environment, trained_models, store, tmp_path):
    """A promoted model whose file is broken is refused and the workers keep theirs; a good one is loaded and the
    two workers are replaced one at a time while mail flows: every message triaged once, the later ones by it."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    first = active_version(models)
    workers = Workers({**pg_environment, "TRIAGE_MODELS_DIR": str(models), "TRIAGE_WORKER_MODEL_CHECK_SECONDS": "0"},
                      tmp_path / "worker.log")
    workers.children()
    store.fill(distinct_mail(60))
    wait_until(lambda: store.done() == 60, "the first 60 messages done", 120)

    (models / "broken").mkdir()
    (models / "broken" / MODEL_FILE).write_bytes(b"not a model")
    activate_version(models, "broken")
    workers.process.send_signal(signal.SIGHUP)
    wait_until(lambda: workers.events("promoted model did not load; workers keep theirs"), "the broken model refused", 60)

    shutil.copytree(models / first, models / "retrained")
    activate_version(models, "retrained")
    workers.process.send_signal(signal.SIGHUP)
    store.fill([b"X-Batch: 2\r\n" + raw for raw in distinct_mail(200)])
    wait_until(lambda: len(workers.events("worker process stopped for the new model")) == 2, "both workers replaced", 120)
    workers.children(4)
    store.fill([b"X-Batch: 3\r\n" + raw for raw in distinct_mail(20)])
    wait_until(lambda: store.done() == 280, "every message done", 120)
    assert workers.stop() == 0

    stored = store.messages()
    assert {(message.status, message.attempts) for message in stored} == {("done", 1)}
    assert store.results_per_message() == Counter({message.id: 1 for message in stored})
    versions = dict(store.model_versions())
    assert {versions[message.id] for message in stored[:60]} == {first}
    assert {versions[message.id] for message in stored[-20:]} == {"retrained"}
    started = [event["model_version"] for event in workers.events("worker process started")]
    assert started == [first, first, "retrained", "retrained"]
    assert not workers.events("worker process died; restarting")
