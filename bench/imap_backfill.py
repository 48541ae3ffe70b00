"""IMAP backfill throughput: a 10,000-message mailbox in a private Dovecot read into a fresh store.

The mailbox is built with MULTIAPPEND and LITERAL+ (500 messages per command, one
connection, Dovecot not fsyncing) from the fixtures, each made distinct by a sequence header.  The poller then
reads it as on its first start: batches of ``imap_batch_size``, each stored with the
cursor in one commit.  The clock runs from starting the poller (connect and login
included) to the commit of the batch holding the highest UID.  Needs root and Dovecot
(``apt-get install -y dovecot-imapd``), as the tests do.

    python bench/imap_backfill.py [--messages 10000] [--batch-size 200] [--database URL]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The private Dovecot helper lives with the tests, which are not an installed package.
sys.path.insert(0, str(ROOT))

from tests.dovecot import Dovecot  # noqa: E402
from triage.db.engine import make_engine  # noqa: E402
from triage.db.migrate import upgrade  # noqa: E402
from triage.receive_imap import FolderPoller  # noqa: E402
from triage.settings import Settings  # noqa: E402

FIXTURES = ROOT / "fixtures" / "eml"
TARGET = 500


class LastBatch(logging.Handler):
    """Notes the moment the poller logs the batch that ends at ``top``."""

    def __init__(self, top: int) -> None:
        super().__init__()
        self.top, self.done, self.at, self.stored = top, threading.Event(), 0.0, 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("batch stored"):
            self.stored += record.args[3]
            if record.args[2] >= self.top:
                self.at = time.perf_counter()
                self.done.set()


def mailbox_messages(count: int) -> list[bytes]:
    """``count`` fixture messages with CRLF line ends, each made distinct by a header."""
    files = sorted(FIXTURES.glob("*.eml"))
    samples = [path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for path in files]
    return [b"X-Bench-Sequence: %d\r\n" % number + samples[number % len(samples)] for number in range(count)]


def backfill(settings: Settings, top: int) -> tuple[float, int]:
    """Seconds the poller takes to store UIDs 1..``top``, and how many it stored."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    watcher, imap_log, stop = LastBatch(top), logging.getLogger("triage.imap"), threading.Event()
    imap_log.addHandler(watcher)
    imap_log.setLevel(logging.INFO)
    poller = threading.Thread(target=FolderPoller(settings, engine, "INBOX", stop).run)
    started = time.perf_counter()
    poller.start()
    finished = watcher.done.wait(timeout=3600)
    stop.set()
    poller.join()
    engine.dispose()
    if not finished:
        raise SystemExit("the backfill did not finish within an hour")
    return watcher.at - started, watcher.stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--database", help="Store URL (default: a fresh SQLite file in a temporary folder).")
    args = parser.parse_args()
    # The mailbox is only scaffolding: Dovecot need not fsync each appended message.
    server = Dovecot(extra_config="mail_fsync = never\n")
    try:
        user = server.add_user("desk")
        server.start()
        messages = mailbox_messages(args.messages)
        started = time.perf_counter()
        server.append_many(user, messages)
        appended = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(database_url=args.database or f"sqlite:///{folder}/bench.db",
                                imap_host="127.0.0.1", imap_port=server.port, imap_ssl=False,
                                imap_username=user, imap_password="secret", imap_batch_size=args.batch_size)
            seconds, stored = backfill(settings, args.messages)
    finally:
        server.remove()
    size = sum(map(len, messages))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"mailbox: {args.messages} messages, {size / 1e6:.1f} MB, appended in {appended:.1f} s "
          f"({args.messages / appended:,.0f} messages/s, MULTIAPPEND + LITERAL+)")
    print(f"store: {settings.database_url.split(':', 1)[0]}, batch size {args.batch_size}")
    print(f"backfill: {stored} stored in {seconds:.1f} s = {stored / seconds:,.0f} messages/s "
          f"(target >= {TARGET})")


if __name__ == "__main__":
    main()
