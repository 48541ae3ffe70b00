"""The IMAP poller: reads new mail from the configured folders into the message table, once.

Per folder: read every UID above the cursor, oldest first, in batches (each stored and the
cursor moved in one commit), then wait for news with IDLE (RFC 2177) when the server
offers it, else poll; on any connection, socket or IMAP error reconnect after an
exponential backoff.  After a commit, optional actions mark what was stored: \\Seen, a
keyword, a MOVE.  Nothing is ever deleted or expunged on the server.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from triage.errors import ImapError
from triage.imap_actions import Actions, plan_actions
from triage.imap_connect import check_settings, connect, idle, imap_errors
from triage.imap_cursor import Mailbox, Position, mailbox_lock, open_position, store_batch
from triage.settings import Settings

log = logging.getLogger("triage.imap")

BODY, SIZE = b"BODY[]", b"RFC822.SIZE"


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays in seconds: ``first``, doubled after each failure in a row, at most ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * 2 ** max(failures - 1, 0))


class FolderPoller:
    """Keeps one folder read into the store until ``stop`` is set."""

    def __init__(self, settings: Settings, engine: Engine, folder: str, stop: threading.Event,
                 backoff: Backoff = Backoff()) -> None:
        self.settings, self.engine, self.stop, self.backoff = settings, engine, stop, backoff
        self.mailbox = Mailbox.of(settings.imap_username, settings.imap_host, settings.imap_port, folder)
        self.failures = 0
        self.warned: set[str] = set()

    def run(self) -> None:
        """Take the mailbox lock, then read, wait and reconnect until stopped."""
        with mailbox_lock(self.engine, self.mailbox, self.stop, self.settings.imap_poll_seconds) as held:
            while held and not self.stop.is_set():
                self._session()

    def _session(self) -> None:
        # One connection's life; its failure is logged and waited out, never raised.
        try:
            with connect(self.settings) as client, imap_errors():
                self._follow(client)
        except (ImapError, OperationalError) as error:
            self.failures += 1
            delay = self.backoff.delay(self.failures)
            log.warning("imap session failed; reconnecting folder=%s failures=%d retry_in=%.1f error=%s",
                        self.mailbox.folder, self.failures, delay, error)
            self.stop.wait(delay)

    def _follow(self, client: IMAPClient) -> None:
        wants_actions = bool(self.settings.imap_mark_seen or self.settings.imap_add_keyword
                             or self.settings.imap_move_to)
        status = client.select_folder(self.mailbox.folder, readonly=not wants_actions)
        actions = plan_actions(client, status, self.settings, self._warn_once) if wants_actions else Actions()
        with Session(self.engine) as session, session.begin():
            position = open_position(session, mailbox=self.mailbox, uidvalidity=status[b"UIDVALIDITY"])
        while not self.stop.is_set():
            position = self._catch_up(client, position, actions)
            self.failures = 0
            self._wait_for_news(client)

    def _catch_up(self, client: IMAPClient, position: Position, actions: Actions) -> Position:
        """Read every message above the cursor, oldest first, one batch per commit, until none is left."""
        while uids := self._new_uids(client, position):
            for start in range(0, len(uids), self.settings.imap_batch_size):
                if self.stop.is_set():
                    return position
                batch = uids[start:start + self.settings.imap_batch_size]
                position = self._read_batch(client, position, batch, actions)
        return position

    def _new_uids(self, client: IMAPClient, position: Position) -> list[int]:
        criteria = ["UID", f"{position.last_uid + 1}:*"]
        if self.settings.imap_since:
            criteria += ["SINCE", self.settings.imap_since]
        # RFC 3501 6.4.8: "n:*" always matches the highest UID, even one below n.
        return sorted(uid for uid in client.search(criteria) if uid > position.last_uid)

    def _read_batch(self, client: IMAPClient, position: Position, uids: list[int], actions: Actions) -> Position:
        fetched = self._fetch(client, uids)
        with Session(self.engine) as session, session.begin():
            stored = store_batch(session, mailbox=self.mailbox, position=position, messages=fetched,
                                 last_uid=uids[-1])
        log.info("batch stored folder=%s uids=%d-%d stored=%d known=%d refused=%d", self.mailbox.folder,
                 uids[0], uids[-1], len(stored.new), len(stored.known), len(uids) - len(fetched))
        actions.apply(client, stored.new + stored.known)
        return Position(position.uidvalidity, uids[-1])

    def _fetch(self, client: IMAPClient, uids: list[int]) -> list[tuple[int, bytes]]:
        """(UID, raw) of the batch, without setting \\Seen; empty and oversized ones are refused."""
        limit = self.settings.max_message_bytes
        sizes = client.fetch(uids, [SIZE])
        wanted = [uid for uid in uids if 0 < sizes.get(uid, {}).get(SIZE, 0) <= limit]
        for uid in sorted(set(sizes) - set(wanted)):
            log.warning("message refused folder=%s uid=%d size=%s limit=%d", self.mailbox.folder, uid,
                        sizes[uid].get(SIZE), limit)
        bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
        return [(uid, bodies[uid][BODY]) for uid in wanted if isinstance(bodies.get(uid, {}).get(BODY), bytes)]

    def _wait_for_news(self, client: IMAPClient) -> None:
        if client.has_capability("IDLE"):
            idle(client, self.settings.imap_idle_seconds, self.stop)
        else:
            self._warn_once("no-idle", "server does not offer IDLE; polling every %d s",
                            self.settings.imap_poll_seconds)
            self.stop.wait(self.settings.imap_poll_seconds)

    def _warn_once(self, key: str, message: str, *args) -> None:
        if key not in self.warned:
            self.warned.add(key)
            log.warning(message + " folder=%s", *args, self.mailbox.folder)


def run_pollers(settings: Settings, engine: Engine, stop: threading.Event, backoff: Backoff = Backoff()) -> None:
    """Poll every configured folder, one thread each, until ``stop`` is set.

    A poller that fails on something other than the server or the database stops them all,
    and this raises ``ImapError`` once they have ended.
    """
    check_settings(settings)
    crashed = threading.Event()
    threads = [threading.Thread(target=_guarded, args=(FolderPoller(settings, engine, folder, stop, backoff),
                                                       crashed), name=f"imap {folder}", daemon=True)
               for folder in dict.fromkeys(settings.imap_folders)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(timeout=0.5)
    if crashed.is_set():
        raise ImapError("an IMAP poller stopped on an unexpected error; see the log")


def _guarded(poller: FolderPoller, crashed: threading.Event) -> None:
    # The only broad except of the poller: anything unforeseen ends every poller, loudly.
    try:
        poller.run()
    except Exception:  # noqa: BLE001 - logged with its traceback, then reported by run_pollers
        log.exception("imap poller crashed folder=%s", poller.mailbox.folder)
        crashed.set()
        poller.stop.set()
