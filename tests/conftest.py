"""Shared fixtures: databases on the real SQLite and the real local PostgreSQL server.

PostgreSQL is required: when it is not reachable the tests that need it fail with the
reason, they are never skipped.  Each test run works in a database of its own, created
on the server named by ``TRIAGE_TEST_POSTGRES_URL`` and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from triage.db.engine import make_engine
from triage.db.migrate import upgrade
from triage.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "corpus"

POSTGRES_URL = os.environ.get("TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a fresh PostgreSQL database for this run, dropped afterwards."""
    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - turned into a failure that says what to do
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for these tests: {error}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty database URL on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'triage.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield url
    if request.param == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE message, imap_cursor RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(database_url):
    """An engine on the migrated database of ``database_url``."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory):
    """A models folder with a model trained once from the corpus's train split for the run."""
    from triage.model_ops import train_model

    folder = tmp_path_factory.mktemp("models")
    train_model(CORPUS, folder, Settings(models_dir=folder, corpus_dir=CORPUS))
    return folder


@pytest.fixture(scope="session")
def model(trained_models):
    """The bundle trained for this run, loaded as a worker loads it."""
    from classifiers.artifacts import load_bundle

    return load_bundle(trained_models)
