"""PostgreSQL restarts under a running worker and receiver: both carry on without an operator.

The server is a private cluster (tests/postgres_cluster.py), never the machine's own.
The worker must outlive the outage and finish every message once; the SMTP receiver
must refuse mail with a 4xx while it cannot commit (the client keeps it and retries,
RFC 5321 4.2.5) and take it with 250 again once the server is back.
"""

from __future__ import annotations

import smtplib
import time

from tests.commands import free_port
from tests.dovecot import port_open, wait_until
from tests.reliability.processes import LEASE_SETTING, run_command, service_environment
from tests.reliability.queue import assert_each_triaged_once, fixture_mail

BEFORE, AFTER = 300, 300
OUTAGE_SECONDS = 2
LEASE_SECONDS = 5


def upgraded(url: str, models) -> dict[str, str]:
    """The environment for ``url``, after `triage db upgrade` has created the schema there."""
    env = {**service_environment(url, models), LEASE_SETTING: str(LEASE_SECONDS)}
    upgrade = run_command("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr.decode()
    return env


def test_a_worker_recovers_by_itself_when_postgres_restarts(cluster, cluster_database, trained_models, open_queue,
                                                            start_service):
    """Stop PostgreSQL under a busy worker, start it again, queue more: all done once, the worker still up."""
    env = upgraded(cluster_database, trained_models)
    queue = open_queue(cluster_database)
    queue.store(fixture_mail(BEFORE, "before"))
    worker = start_service("worker", env=env)
    wait_until(lambda: queue.counts()["done"] >= BEFORE // 10, "the worker to be part way through", timeout=120)
    cluster.stop()
    # An outage the worker must meet, not a timing being measured.
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    queue.store(fixture_mail(AFTER, "after"))
    wait_until(lambda: queue.counts()["done"] == BEFORE + AFTER or not worker.alive(),
               "the worker to finish after the restart", timeout=180, step=0.2)
    assert worker.alive(), worker.output()[-3000:]
    assert worker.stop() == 0, worker.output()[-3000:]
    assert_each_triaged_once(queue, BEFORE + AFTER)


def smtp_reply(port: int, raw: bytes) -> int:
    """The receiver's reply code to ``raw`` sent for support@desk.example."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        try:
            client.sendmail("client@example.com", ["support@desk.example"], raw)
        except smtplib.SMTPDataError as refused:
            return refused.smtp_code
    return 250


def test_the_receiver_answers_4xx_while_postgres_is_down_and_250_once_it_is_back(cluster, cluster_database,
                                                                                 trained_models, open_queue,
                                                                                 start_service):
    """Mail sent during the outage is refused for now (4xx), never acknowledged; mail after it is stored."""
    port = free_port()
    env = {**upgraded(cluster_database, trained_models), "TRIAGE_SMTP_PORT": str(port)}
    receiver = start_service("receive", env=env)
    before, during, after = fixture_mail(3, "smtp")
    wait_until(lambda: port_open(port), "the receiver to listen", timeout=60)
    assert smtp_reply(port, before) == 250
    cluster.stop()
    try:
        refused = smtp_reply(port, during)
    finally:
        cluster.start()
    assert 400 <= refused < 500, receiver.output()[-3000:]
    assert smtp_reply(port, after) == 250, receiver.output()[-3000:]
    assert receiver.stop() == 0, receiver.output()[-3000:]
    stored = open_queue(cluster_database).raws()
    assert [raw.replace(b"\r\n", b"\n") for raw in stored] == [before.replace(b"\r\n", b"\n"),
                                                                after.replace(b"\r\n", b"\n")]
