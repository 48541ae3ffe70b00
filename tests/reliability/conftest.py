"""Fixtures of the reliability tests: services as processes, queues read from outside, a cluster to restart."""

from __future__ import annotations

import uuid

import pytest

from tests.postgres_cluster import PostgresCluster, PostgresMissing
from tests.reliability.processes import Service
from tests.reliability.queue import Queue


@pytest.fixture(scope="module")
def cluster():
    """A running private PostgreSQL cluster for the module; never the machine's own server."""
    try:
        server = PostgresCluster()
    except PostgresMissing as error:
        pytest.fail(str(error))
    server.start()
    yield server
    server.remove()


@pytest.fixture
def cluster_database(cluster) -> str:
    """URL of a fresh, empty database on the private cluster (no schema: the test runs `triage db upgrade`)."""
    return cluster.create_database(f"triage_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def open_queue():
    """Opens a ``Queue`` on a database URL; every one opened is closed after the test, passed or not."""
    opened: list[Queue] = []

    def open_(database_url: str) -> Queue:
        opened.append(Queue(database_url))
        return opened[-1]

    yield open_
    for queue in opened:
        queue.close()


@pytest.fixture
def start_service(tmp_path):
    """Starts `triage ARGS` as a ``Service`` logging under tmp_path; any still running after the test is killed."""
    started: list[Service] = []

    def start(*args: str, env: dict[str, str]) -> Service:
        started.append(Service(*args, env=env, log=tmp_path / f"{args[0]}-{len(started)}.log"))
        return started[-1]

    yield start
    for service in started:
        if service.alive():
            service.kill()
