"""The ``triage`` command line: thin commands over the pipeline, the store and the models."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from classifiers.artifacts import load_bundle
from classifiers.evaluate import summary_lines, write_report
from classifiers.evaluate import report as evaluation_report
from classifiers.train import TrainingDataError
from triage.db.engine import make_engine
from triage.db.models import Message
from triage.db.migrate import upgrade
from triage.db.queries import oldest_pending, recent_failures, requeue, status_counts, stored_result
from triage.db.store import store_message
from triage.errors import TriageError
from triage.imap_connect import check_settings as check_imap_settings
from triage.logs import LogFormat, configure_logging
from triage.model_ops import evaluate, load_or_train, train_model
from triage.output import error_record, result_record
from triage.pipeline import TriageContext, context_for, triage
from triage.receive_imap import run_pollers
from triage.receive_smtp import start_receiver
from triage.send_sample import default_recipient, first_sample, send_sample
from triage.service import run_service
from triage.settings import Settings
from triage.sources import RawMessage, read_messages
from triage.supervisor import run_supervisor
from triage.training import load_labeled

app = typer.Typer(help="Email triage for a brokerage client-service desk.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

Paths = Annotated[list[str], typer.Argument(
    help="An .eml file, a folder of .eml files, an mbox, a maildir, or - for stdin.")]
DataPath = Annotated[Path | None, typer.Option(
    "--data", help="Labeled mail: a corpus folder, .jsonl, .csv, or an .eml folder with labels.csv.")]
ModelsDir = Annotated[Path | None, typer.Option("--models", help="Models folder (default: the setting).")]


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set: long-running commands finish their work and stop."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def say(text: str) -> None:
    """Progress and notices go to stderr, so stdout stays machine-readable."""
    typer.echo(text, err=True)


@app.command()
def process(paths: Paths) -> None:
    """Triage messages and print one JSON object per message per line; touches no database."""
    settings = Settings()
    context = context_for(settings, load_or_train(settings, progress=say))
    for message in read_messages(paths):
        if message.error is not None:
            record = error_record(message.source, message.error)
        else:
            record = _process_one(message.source, message.raw, context)
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _process_one(source: str, raw: bytes, context: TriageContext) -> dict:
    # The batch owns per-message failure: one bad message yields an error line, never a stop.
    try:
        return result_record(source, triage(raw, context))
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
            counts[_import_one(session, message, settings)] += 1
    typer.echo(" ".join(f"{name} {count}" for name, count in counts.items()))
    if counts["failed"]:
        raise typer.Exit(1)


def _import_one(session: Session, message: RawMessage, settings: Settings) -> str:
    if message.error is not None:
        say(f"failed: {message.source}: {message.error}")
        return "failed"
    if not message.raw or len(message.raw) > settings.max_message_bytes:
        reason = "empty message" if not message.raw else f"over {settings.max_message_bytes} bytes"
        say(f"failed: {message.source}: {reason}")
        return "failed"
    with session.begin():
        stored = store_message(session, message.raw, source=message.source)
    return "stored" if stored else "duplicate"


@app.command()
def train(data: DataPath = None, models: ModelsDir = None) -> None:
    """Train topic, urgency and translit models; evaluate on the test split if the data has one."""
    settings = Settings()
    steps = ["parsing", "features", "topic", "urgency", "critical threshold", "translit", "evaluating"]
    with typer.progressbar(length=len(steps), label="Training", file=sys.stderr) as bar:
        bundle, figures = train_model(data or settings.corpus_dir, models or settings.models_dir, settings,
                                      progress=lambda step: bar.update(1))
    typer.echo(f"model {bundle.version} trained on {bundle.card['training_examples']} examples and activated")
    for line in summary_lines(figures or {}):
        typer.echo(line)


@app.command("eval")
def evaluate_command(
    data: Annotated[Path, typer.Option("--data", help="Labeled mail to evaluate on (its test split if it has one).")],
    models: ModelsDir = None,
    report_dir: Annotated[Path, typer.Option("--report", help="Folder for the PNG and HTML report.")] = Path("reports"),
) -> None:
    """Accuracy, macro-F1, per-class figures, critical recall and calibration, per language."""
    settings = Settings()
    bundle = load_bundle(models or settings.models_dir)
    mails = load_labeled(data)
    if any(mail.split == "test" for mail in mails):
        mails = [mail for mail in mails if mail.split == "test"]
    outcomes = evaluate(bundle, mails, settings)
    figures = evaluation_report(outcomes)
    page = write_report(outcomes, figures, report_dir / bundle.version, bundle.version)
    typer.echo(f"model {bundle.version} on {len(mails)} messages from {data}")
    for line in summary_lines(figures):
        typer.echo(line)
    typer.echo(json.dumps(figures, indent=2))
    say(f"report: {page}")


LogFormatOption = Annotated[LogFormat | None, typer.Option(
    "--log-format", help="Log lines as text or json, one object per line (default: the log_format setting).")]


def start_logging(settings: Settings, log_format: LogFormat | None) -> None:
    """Logs to stderr in the format the option gives, else the setting's."""
    configure_logging(log_format.value if log_format else settings.log_format)


@app.command()
def receive(log_format: LogFormatOption = None) -> None:
    """Receive mail by SMTP (LMTP if configured) into the queue until SIGTERM or SIGINT."""
    settings = Settings()
    start_logging(settings, log_format)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    controller = start_receiver(settings, engine)
    stop_on_signals().wait()
    controller.stop()


@app.command()
def poll(log_format: LogFormatOption = None) -> None:
    """Read the configured IMAP folders into the queue, IDLE or polling, until SIGTERM or SIGINT."""
    settings = Settings()
    start_logging(settings, log_format)
    check_imap_settings(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    run_pollers(settings, engine, stop_on_signals())


@app.command("send-sample")
def send_sample_command(
    to: Annotated[str | None, typer.Option("--to", help="Recipient (default: the first configured).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Receiver address (default: the setting).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Receiver port (default: the setting).")] = None,
    message: Annotated[Path | None, typer.Option("--message", help="An .eml (default: the first sample).")] = None,
) -> None:
    """Send one sample message to the receiver and print its reply."""
    settings = Settings()
    host, port = host or settings.smtp_host, port or settings.smtp_port
    try:
        code, reply = send_sample(settings, (message or first_sample()).read_bytes(),
                                  to or default_recipient(settings), host, port)
    except OSError as error:
        raise TriageError(f"cannot send to {host}:{port}: {error}") from error
    typer.echo(f"{code} {reply}")
    if code != 250:
        raise typer.Exit(1)


Concurrency = Annotated[int, typer.Option(
    "--concurrency", min=1, help="Worker processes, forked from one parent that loads the model (default 1).")]


def migrate(settings: Settings) -> None:
    """Bring the schema up to date with an engine of its own, closed before any fork."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()


@app.command()
def worker(concurrency: Concurrency = 1, log_format: LogFormatOption = None) -> None:
    """Triage queued messages in worker processes until SIGTERM or SIGINT.

    Each worker finishes the message in hand and gives back the rest of its batch; a
    worker that dies is started again.
    """
    settings = Settings()
    start_logging(settings, log_format)
    stop = stop_on_signals()
    migrate(settings)
    raise typer.Exit(run_supervisor(settings, concurrency, stop))


@app.command()
def run(concurrency: Concurrency = 1, log_format: LogFormatOption = None) -> None:
    """The whole service: SMTP receiver and IMAP pollers (when configured) here, worker processes beside.

    On the embedded default (a SQLite file) nothing else is needed; the model is trained
    from the corpus first when none exists yet, while mail is already received.
    """
    settings = Settings()
    start_logging(settings, log_format)
    if settings.imap_host:
        check_imap_settings(settings)
    stop = stop_on_signals()
    migrate(settings)
    raise typer.Exit(run_service(settings, concurrency, stop))


@app.command()
def status() -> None:
    """Messages per status, the oldest pending one, and the last 10 failures with their error."""
    engine = make_engine(Settings().database_url)
    upgrade(engine)
    with Session(engine) as session:
        counts, oldest, failures = status_counts(session), oldest_pending(session), recent_failures(session)
        typer.echo(" ".join(f"{name} {counts.get(name, 0)}" for name in ("pending", "processing", "done", "failed")))
        typer.echo(f"oldest pending: {oldest.isoformat() if oldest else 'none'}")
        for message in failures:
            typer.echo(f"failed {message.id} after {message.attempts} attempts: {message.last_error}")


@app.command()
def show(message_id: Annotated[int, typer.Argument(help="The message's id in the store.")]) -> None:
    """Print the stored triage JSON of a message, or its status and last error when it has none."""
    engine = make_engine(Settings().database_url)
    upgrade(engine)
    with Session(engine) as session:
        row = stored_result(session, message_id)
        message = session.get(Message, message_id)
        if message is None:
            raise TriageError(f"no message {message_id}")
        if row is not None:
            typer.echo(row.result_json)
            return
        typer.echo(f"message {message_id}: {message.status} after {message.attempts} attempts; "
                   f"last error: {message.last_error or 'none'}")


@app.command()
def reprocess(
    ids: Annotated[list[int] | None, typer.Argument(help="Message ids to triage again.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every message parked as failed.")] = False,
) -> None:
    """Queue messages again as pending with no attempts; their old triage results are dropped."""
    if bool(ids) == all_failed:
        raise typer.BadParameter("give message ids or --all-failed, not both")
    engine = make_engine(Settings().database_url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        count = requeue(session, None if all_failed else ids)
    typer.echo(f"{count} messages queued again")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    upgrade(make_engine(Settings().database_url))
    typer.echo("database is at the latest revision")


def main() -> None:
    """Console entry: our own errors end the command with their message, not a traceback."""
    try:
        app(prog_name="triage")
    except (TriageError, FileNotFoundError, TrainingDataError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
