"""End-to-end latency: from SMTP 250 or IMAP APPEND to a committed triage row, at a steady rate.

For each store, a scratch PostgreSQL database on the local server and a SQLite file, one
`triage run` is started as a user starts it (settings by environment): its SMTP receiver,
an IMAP poller on a private Dovecot (tests/dovecot.py) that waits with IDLE, and one worker.
After one warm-up message on each path, messages go in at ``--rate`` per second for
``--seconds``, first by SMTP (a new connection per message, as mail servers deliver), then
by IMAP APPEND (one logged-in connection, as a mail server delivers into the folder).
Sending is paced by the clock, not by replies, so a slow service does not slow the load.

Method, one clock (this machine's wall clock) for both ends.  Start: when the 250 reply
to the message's DATA is read, or when its APPEND's tagged OK is read.  End: when its
triage row is committed, bracketed two ways: the row's ``created_at`` (triage_result,
stamped by the worker inside the transaction, just before it commits: a lower bound), and
the moment a reader that polls the table every 20 ms first sees the row (an upper bound).
The figures are of the upper bound; the stamp's p50 and p99 follow in brackets.  Messages
are the fixtures, each with a Message-ID of its own, by which rows are matched.

    python bench/latency.py [--rate 20] [--seconds 60] [--server URL] [--models DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The Dovecot, database and process helpers live with the tests, which are not an installed package.
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tests.commands import free_port  # noqa: E402
from tests.dovecot import PASSWORD, Dovecot, port_open, wait_until  # noqa: E402
from tests.postgres_cluster import scratch_database  # noqa: E402
from tests.reliability.processes import Service, service_environment  # noqa: E402
from tests.reliability.queue import FIXTURES  # noqa: E402
from triage.db.engine import make_engine  # noqa: E402
from triage.db.models import Message, TriageRow  # noqa: E402

TARGET_P50, TARGET_P99 = 0.5, 2.0
POLL_SECONDS = 0.02
RECIPIENT = "support@desk.example"
MESSAGE_ID = re.compile(rb"^message-id:.*\r\n(?:[ \t].*\r\n)*", re.IGNORECASE | re.MULTILINE)


def bench_mail(count: int, tag: str) -> list[tuple[str, bytes]]:
    """``count`` (Message-ID, raw) pairs: the fixtures in turn, CRLF, each under a Message-ID of its own."""
    samples = [path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for path in FIXTURES]
    mail = []
    for number in range(count):
        head, _, body = samples[number % len(samples)].partition(b"\r\n\r\n")
        message_id = f"{tag}-{number}@latency.bench"
        head = MESSAGE_ID.sub(b"", head + b"\r\n").rstrip(b"\r\n")
        mail.append((message_id, b"Message-ID: <%s>\r\n%s\r\n\r\n%s" % (message_id.encode(), head, body)))
    return mail


class RowWatcher(threading.Thread):
    """Polls triage_result every 20 ms; for each new row, when it was first seen and its created_at."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(database_url)
        self.seen: dict[str, tuple[float, float]] = {}
        self.stop = threading.Event()
        self.last_id = 0

    def run(self) -> None:
        query = (select(TriageRow.id, Message.message_id, TriageRow.created_at)
                 .join(Message, Message.id == TriageRow.message_id).order_by(TriageRow.id))
        while not self.stop.wait(POLL_SECONDS):
            with Session(self.engine) as session:
                rows = session.execute(query.where(TriageRow.id > self.last_id)).all()
            now = time.time()
            for row_id, message_id, created_at in rows:
                # SQLite hands back the stored UTC time without its zone.
                stamp = (created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)).timestamp()
                self.seen[message_id] = (now, stamp)
                self.last_id = max(self.last_id, row_id)

    def wait_for(self, message_ids: list[str], timeout: float) -> None:
        wait_until(lambda: all(message_id in self.seen for message_id in message_ids),
                   f"{len(message_ids)} triage rows", timeout=timeout, step=0.1)

    def close(self) -> None:
        self.stop.set()
        self.join()
        self.engine.dispose()


def send_smtp(port: int) -> Callable[[bytes], float]:
    """A sender: one SMTP connection per message; returns the time the 250 to DATA was read."""
    def send(raw: bytes) -> float:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.sendmail("client@example.com", [RECIPIENT], raw)
            return time.time()
    return send


def send_imap(client) -> Callable[[bytes], float]:
    """A sender: APPEND on one logged-in connection; returns the time the tagged OK was read."""
    def send(raw: bytes) -> float:
        client.append("INBOX", raw)
        return time.time()
    return send


def paced(mail: list[tuple[str, bytes]], rate: float, send: Callable[[bytes], float]) -> tuple[dict, float]:
    """Send ``mail`` at ``rate`` per second on the clock; Message-ID -> acknowledged time, and the rate achieved."""
    sent, started = {}, time.monotonic()
    for number, (message_id, raw) in enumerate(mail):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent[message_id] = send(raw)
    return sent, (len(mail) - 1) / max(time.monotonic() - started, 1e-9)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report(path: str, store: str, sent: dict, achieved: float, watcher: RowWatcher) -> None:
    seen = [watcher.seen[key][0] - at for key, at in sent.items() if key in watcher.seen]
    stamped = [watcher.seen[key][1] - at for key, at in sent.items() if key in watcher.seen]
    figures = " ".join(f"{name} {percentile(seen, q):.3f}" for name, q in
                       (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)))
    print(f"{path:4} {store:10} {len(sent):5} sent at {achieved:4.1f}/s, {len(seen):5} triaged: {figures} s "
          f"[row stamp p50 {percentile(stamped, 0.5):.3f} p99 {percentile(stamped, 0.99):.3f}]", flush=True)


def measure(store: str, database_url: str, dovecot: Dovecot, user: str, args: argparse.Namespace) -> None:
    """Start `triage run` on ``database_url``, warm both paths up, then measure SMTP and IMAP in turn."""
    port = free_port()
    env = service_environment(database_url, args.models, smtp_port=port, imap_host="127.0.0.1",
                              imap_port=dovecot.port, imap_ssl="false", imap_username=user, imap_password=PASSWORD)
    service = Service("run", env=env, log=args.logs / f"latency-{store}.log")
    watcher = None
    try:
        wait_until(lambda: port_open(port) or not service.alive(), "triage run to listen", timeout=300)
        if not service.alive():
            raise SystemExit(service.output()[-3000:])
        watcher = RowWatcher(database_url)
        watcher.start()
        count = int(args.rate * args.seconds)
        with dovecot.client(user) as imap:
            for path, send in (("smtp", send_smtp(port)), ("imap", send_imap(imap))):
                warm_up = bench_mail(1, f"{store}-{path}-warm-up")
                paced(warm_up, args.rate, send)
                watcher.wait_for([warm_up[0][0]], timeout=300)
                sent, achieved = paced(bench_mail(count, f"{store}-{path}"), args.rate, send)
                watcher.wait_for(list(sent), timeout=120)
                report(path, store, sent, achieved, watcher)
    finally:
        if watcher is not None:
            watcher.close()
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="Messages per second on each path.")
    parser.add_argument("--seconds", type=float, default=60.0, help="How long each path is measured.")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="A PostgreSQL server URL; a scratch database is made there for the run.")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()), help="Where the service logs go.")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load: {args.rate:g} messages/s for {args.seconds:g} s per path; `triage run` with 1 worker; "
          f"latency in seconds to the committed triage row (targets p50 <= {TARGET_P50}, p99 <= {TARGET_P99})",
          flush=True)
    dovecot = Dovecot()
    try:
        users = [dovecot.add_user("desk-postgresql"), dovecot.add_user("desk-sqlite")]
        dovecot.start()
        with scratch_database(args.server, "triage_latency") as url:
            measure("postgresql", url, dovecot, users[0], args)
        with tempfile.TemporaryDirectory() as folder:
            measure("sqlite", f"sqlite:///{folder}/latency.db", dovecot, users[1], args)
    finally:
        dovecot.remove()


if __name__ == "__main__":
    main()
