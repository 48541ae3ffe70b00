"""The real ``triage worker``, ``status``, ``show`` and ``reprocess`` commands over a small SQLite store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from triage.db.engine import make_engine
from triage.db.models import Message
from triage.db.store import store_message
from triage.pipeline import context_for
from triage.retry import RetryPolicy
from triage.settings import Settings
from triage.worker import process_batch
from tests.commands import run_triage

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
