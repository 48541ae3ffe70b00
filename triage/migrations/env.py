"""Alembic environment: the engine comes from ``triage.db.migrate``, never from a file."""

from alembic import context
from sqlmodel import SQLModel

import triage.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
