"""The ``triage`` command line: thin commands over the pipeline and the store."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from sqlmodel import Session

from triage.db.engine import make_engine
from triage.db.migrate import upgrade
from triage.db.store import store_message
from triage.errors import TriageError
from triage.mail.parse import ParseLimits
from triage.output import error_record, result_record
from triage.pipeline import triage
from triage.settings import Settings
from triage.sources import read_messages

app = typer.Typer(help="Email triage for a brokerage client-service desk.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

Paths = Annotated[list[str], typer.Argument(help="An .eml file, a folder of .eml files, an mbox, a maildir, or - for stdin.")]


def parse_limits(settings: Settings) -> ParseLimits:
    """The parser's bounds as the settings give them."""
    return ParseLimits(
        max_message_bytes=settings.max_message_bytes,
        max_headers=settings.max_headers,
        max_mime_parts=settings.max_mime_parts,
        max_text_chars=settings.max_text_chars,
    )


@app.command()
def process(paths: Paths) -> None:
    """Triage messages and print one JSON object per message per line; touches no database."""
    limits = parse_limits(Settings())
    for message in read_messages(paths):
        if message.error is not None:
            record = error_record(message.source, message.error)
        else:
            record = _process_one(message.source, message.raw, limits)
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _process_one(source: str, raw: bytes, limits: ParseLimits) -> dict:
    # The batch owns per-message failure: one bad message yields an error line, never a stop.
    try:
        return result_record(source, triage(raw, limits))
    except TriageError as error:
        return error_record(source, str(error))
    except Exception as error:  # noqa: BLE001 - reported per message, the run goes on
        return error_record(source, f"internal error: {type(error).__name__}: {error}")


@app.command("import")
def import_messages(paths: Paths) -> None:
    """Store messages into the database queue as pending; report stored, duplicate, failed."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    counts = {"stored": 0, "duplicate": 0, "failed": 0}
    with Session(engine) as session, typer.progressbar(
        read_messages(paths), label="Importing", file=sys.stderr
    ) as messages:
        for message in messages:
            outcome = _import_one(session, message, settings)
            counts[outcome] += 1
    typer.echo(" ".join(f"{name} {count}" for name, count in counts.items()))
    if counts["failed"]:
        raise typer.Exit(1)


def _import_one(session: Session, message, settings: Settings) -> str:
    if message.error is not None:
        typer.echo(f"failed: {message.source}: {message.error}", err=True)
        return "failed"
    if not message.raw or len(message.raw) > settings.max_message_bytes:
        reason = "empty message" if not message.raw else f"over {settings.max_message_bytes} bytes"
        typer.echo(f"failed: {message.source}: {reason}", err=True)
        return "failed"
    with session.begin():
        stored = store_message(session, message.raw, source=message.source)
    return "stored" if stored else "duplicate"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    upgrade(make_engine(Settings().database_url))
    typer.echo("database is at the latest revision")


def main() -> None:
    app()
