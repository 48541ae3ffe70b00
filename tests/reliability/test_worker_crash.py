"""A worker killed with SIGKILL in the middle of a batch loses nothing and duplicates nothing.

The claimed rows of the dead worker stay ``processing`` until their lease runs out; a
restarted worker claims them again, and every message ends with exactly one triage row.
"""

from __future__ import annotations

from tests.dovecot import wait_until
from tests.reliability.processes import LEASE_SETTING, service_environment
from tests.reliability.queue import assert_each_triaged_once, fixture_mail

MESSAGES = 400
LEASE_SECONDS = 3


def test_a_killed_worker_restarted_triages_every_message_exactly_once(database_url, trained_models, open_queue,
                                                                      start_service):
    """SIGKILL mid-batch, then a restart: every message done once, none failed, on SQLite and PostgreSQL."""
    queue = open_queue(database_url)
    queue.store(fixture_mail(MESSAGES, "crash"))
    env = {**service_environment(database_url, trained_models), LEASE_SETTING: str(LEASE_SECONDS)}

    first = start_service("worker", env=env)
    wait_until(lambda: queue.counts()["done"] >= MESSAGES // 10 and queue.counts()["processing"] > 0,
               "the first worker to be part way through", timeout=120)
    first.kill()
    assert 0 < queue.counts()["done"] < MESSAGES, first.output()[-3000:]

    second = start_service("worker", env=env)
    wait_until(lambda: queue.counts()["done"] == MESSAGES, "the restarted worker to finish", timeout=180)
    assert second.stop() == 0, second.output()[-3000:]
    assert_each_triaged_once(queue, MESSAGES)
