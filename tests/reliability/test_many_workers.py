"""Four worker processes share one PostgreSQL queue of 5,000 messages without triaging any twice."""

from __future__ import annotations

import pytest

from tests.dovecot import wait_until
from tests.reliability.processes import service_environment
from tests.reliability.queue import assert_each_triaged_once, fixture_mail

MESSAGES = 5000
WORKERS = 4


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_workers_triage_each_of_5000_messages_exactly_once(database_url, trained_models, open_queue,
                                                                start_service):
    """Each message is claimed once, triaged once and done, and every worker took a share."""
    queue = open_queue(database_url)
    queue.store(fixture_mail(MESSAGES, "many"))
    env = service_environment(database_url, trained_models)
    workers = [start_service("worker", env=env) for _ in range(WORKERS)]
    wait_until(lambda: queue.counts()["done"] == MESSAGES, "the workers to finish the queue", timeout=300, step=0.5)
    codes = [worker.stop() for worker in workers]
    assert codes == [0] * WORKERS, [worker.output()[-2000:] for worker in workers]
    messages = assert_each_triaged_once(queue, MESSAGES)
    assert [message.id for message in messages if message.attempts != 1] == []
    assert len({message.claimed_by for message in messages}) == WORKERS
