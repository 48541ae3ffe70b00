"""The IMAP poller against a real Dovecot, storing into SQLite and the real PostgreSQL.

Each test has a mailbox user of its own; tests that stop or reconfigure their server get
a Dovecot of their own.  Waits are bounded polling loops, never timing targets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import func
from sqlmodel import Session, select

from tests import torture
from tests.dovecot import PASSWORD, Dovecot, DovecotMissing, wait_until
from triage.db.models import ImapCursor, Message
from triage.errors import ImapLoginError
from triage.imap_connect import connect
from triage.imap_cursor import Mailbox, Position, open_position, store_batch
from triage.receive_imap import Backoff, FolderPoller
from triage.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "eml"
FAST = Backoff(first=0.1, cap=2.0)
TOKEN = "ya29.test-access-token-0123456789"
XOAUTH2_CONFIG = "auth_mechanisms = plain login xoauth2\n"
# Dovecot's own list without IDLE and MOVE: a server that offers neither.
NO_IDLE_NO_MOVE = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS UNSELECT NAMESPACE CHILDREN\n"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


MAILBOXES = 100


def start_dovecot(users: dict[str, str], extra_config: str = "") -> Dovecot:
    """A running private Dovecot with ``users``; a missing dovecot program fails the test, never skips it."""
    try:
        server = Dovecot(extra_config)
    except DovecotMissing as error:
        pytest.fail(str(error))
    for name, password in users.items():
        server.add_user(name, password)
    server.start()
    return server


@pytest.fixture(scope="session")
def dovecot():
    """One Dovecot for the run, with a stock of empty mailboxes, for tests that leave it running."""
    server = start_dovecot({f"desk-{number}": PASSWORD for number in range(MAILBOXES)})
    yield server
    server.remove()


@pytest.fixture(scope="session")
def unused_mailboxes(dovecot):
    """The shared Dovecot's mailboxes not yet handed to a test."""
    return iter(dovecot.passwords)


@pytest.fixture
def new_dovecot():
    """Makes private Dovecots with one mailbox, desk, for tests that stop or reconfigure their server."""
    made = []

    def make(extra_config: str = "") -> Dovecot:
        made.append(start_dovecot({"desk": PASSWORD}, extra_config))
        return made[-1]

    yield make
    for server in made:
        server.remove()


@pytest.fixture
def user(unused_mailboxes):
    """A mailbox on the shared Dovecot that no other test uses: empty, with a cursor of its own."""
    return next(unused_mailboxes)


@pytest.fixture
def imap_log(caplog):
    """The records of the ``triage.imap`` logger, from every thread."""
    caplog.set_level(logging.INFO, logger="triage.imap")
    return caplog


def imap_settings(server: Dovecot, user: str, database_url: str, **overrides) -> Settings:
    """Settings for polling ``user`` on ``server`` into ``database_url``."""
    values = dict(database_url=database_url, imap_host="127.0.0.1", imap_port=server.port, imap_ssl=False,
                  imap_username=user, imap_password=PASSWORD, imap_poll_seconds=3600)
    return Settings(**{**values, **overrides})


def fixture_mail(count: int) -> list[bytes]:
    """``count`` fixture messages with CRLF line ends, each made distinct by a sequence header."""
    files = sorted(FIXTURES.glob("*.eml"))
    return [b"X-Test-Sequence: %d\r\n" % number
            + files[number % len(files)].read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            for number in range(count)]


def numbered_mail(count: int, tag: str) -> list[bytes]:
    """``count`` short client questions, each with a Message-ID of its own."""
    return [(f"From: client{number}@example.com\r\nTo: support@desk.example\r\nSubject: deposit {number}\r\n"
             f"Message-ID: <{tag}-{number}@client.example>\r\n\r\nWhere is my deposit number {number}?\r\n").encode()
            for number in range(count)]


@contextmanager
def polling(settings: Settings, engine, folder: str = "INBOX", stop: threading.Event | None = None,
            name: str = "poller") -> Iterator[threading.Event]:
    """A poller running in a thread for the block, then stopped; it must end within 15 s."""
    stop = stop or threading.Event()
    errors: list[BaseException] = []

    def run():
        try:
            FolderPoller(settings, engine, folder, stop, FAST).run()
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive(), "the poller did not end within 15 s of its stop event"
    if errors:
        raise errors[0]


def stored_hashes(engine) -> list[str]:
    """The sha256 of every stored message, one entry per row."""
    with Session(engine) as session:
        return list(session.exec(select(Message.sha256)).all())


def stored_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message)).one()


def cursor_of(engine, settings: Settings, folder: str = "INBOX") -> ImapCursor | None:
    """The poller's cursor row for ``folder``, None before the first connection."""
    mailbox = Mailbox.of(settings.imap_username, settings.imap_host, settings.imap_port, folder)
    with Session(engine) as session:
        return session.get(ImapCursor, (mailbox.account, mailbox.folder))


def caught_up(engine, settings: Settings, uid: int, folder: str = "INBOX", uidvalidity: int | None = None):
    """A condition: the cursor of ``folder`` has reached ``uid`` (under ``uidvalidity`` if given)."""
    def check() -> bool:
        cursor = cursor_of(engine, settings, folder)
        return (cursor is not None and cursor.last_uid >= uid
                and uidvalidity in (None, cursor.uidvalidity))
    return check


def server_state(server: Dovecot, user: str, folder: str = "INBOX") -> tuple[int, int]:
    """(UIDVALIDITY, highest UID) of ``folder``."""
    with server.client(user) as client:
        status = client.folder_status(folder, ["UIDVALIDITY", "UIDNEXT"])
    return status[b"UIDVALIDITY"], status[b"UIDNEXT"] - 1


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def records(log, starting: str) -> list[logging.LogRecord]:
    return [record for record in log.records if record.getMessage().startswith(starting)]


def test_backfill_stores_each_message_once_in_batches(database_url, engine, dovecot, user, imap_log):
    """300 messages are read in batches of 64, each stored once, and the cursor ends at the top UID."""
    mail = fixture_mail(300)
    dovecot.append_many(user, mail)
    uidvalidity, top = server_state(dovecot, user)
    settings = imap_settings(dovecot, user, database_url, imap_batch_size=64)
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, top), "the backfill")
    assert sorted(stored_hashes(engine)) == sorted(sha(raw) for raw in mail)
    cursor = cursor_of(engine, settings)
    assert (cursor.uidvalidity, cursor.last_uid) == (uidvalidity, top) == (uidvalidity, 300)
    batches = [record.args for record in records(imap_log, "batch stored")]
    assert len(batches) == 5 and all(last - first < 64 for _, first, last, *_ in batches)
    assert sum(new for *_, new, known, refused in batches) == 300


def test_new_mail_arrives_through_idle(database_url, engine, dovecot, user):
    """After the backfill the poller IDLEs, and a message appended then is stored without a poll."""
    dovecot.append_many(user, numbered_mail(3, "before"))
    settings = imap_settings(dovecot, user, database_url, imap_poll_seconds=3600, imap_idle_seconds=600)
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, 3), "the backfill")
        late = numbered_mail(1, "late")[0]
        uid = dovecot.append(user, late)
        wait_until(caught_up(engine, settings, uid), "the message appended during IDLE", timeout=30)
    assert sha(late) in stored_hashes(engine)
    assert stored_count(engine) == 4


def test_uidvalidity_change_rescans_without_duplicates(database_url, engine, dovecot, user, imap_log):
    """A recreated folder is read again from UID 1, storing only what was not stored from it before."""
    mail = numbered_mail(20, "rescan")
    dovecot.append_many(user, mail, folder="Support")
    before, top = server_state(dovecot, user, "Support")
    settings = imap_settings(dovecot, user, database_url, imap_folders=("Support",))
    with polling(settings, engine, folder="Support"):
        wait_until(caught_up(engine, settings, top, "Support"), "the first read")

    with dovecot.client(user) as client:
        client.delete_folder("Support")
    # The same messages come back, one re-encoded by the server (same Message-ID, other
    # bytes), and one message is new.
    new = numbered_mail(1, "after-rescan")[0]
    dovecot.append_many(user, [*mail, b"X-Archived: yes\r\n" + mail[0], new], folder="Support")
    after, top = server_state(dovecot, user, "Support")
    assert after != before
    with polling(settings, engine, folder="Support"):
        wait_until(caught_up(engine, settings, top, "Support", uidvalidity=after), "the rescan")

    assert sorted(stored_hashes(engine)) == sorted(sha(raw) for raw in [*mail, new])
    assert len(records(imap_log, "uidvalidity changed")) == 1


def test_outage_mid_backfill_loses_and_duplicates_nothing(database_url, engine, new_dovecot, imap_log):
    """Dovecot stopped after the first batch: the poller retries with growing delays and stores all once."""
    server, user = new_dovecot(), "desk"
    mail = fixture_mail(300)
    server.append_many(user, mail)
    _, top = server_state(server, user)
    settings = imap_settings(server, user, database_url, imap_batch_size=20)
    outage = StopServerAfterFirstBatch(server)
    logging.getLogger("triage.imap").addHandler(outage)
    try:
        with polling(settings, engine):
            wait_until(lambda: len(outage.retry_delays) >= 3, "three failed reconnects")
            server.start()
            wait_until(caught_up(engine, settings, top), "the backfill after the outage")
    finally:
        logging.getLogger("triage.imap").removeHandler(outage)

    assert outage.stored_before_outage == 20
    assert outage.retry_delays[:3] == [0.1, 0.2, 0.4]
    assert sorted(stored_hashes(engine)) == sorted(sha(raw) for raw in mail)
    batches = [record.args for record in records(imap_log, "batch stored")]
    assert sum(new for *_, new, known, refused in batches) == 300
    assert sum(known for *_, known, refused in batches) == 0


class StopServerAfterFirstBatch(logging.Handler):
    """Stops the server as soon as the poller logs its first stored batch; counts its retries."""

    def __init__(self, server: Dovecot) -> None:
        super().__init__()
        self.server, self.stored_before_outage, self.retry_delays = server, None, []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("batch stored") and self.stored_before_outage is None:
            self.stored_before_outage = record.args[3]
            self.server.stop()
        elif record.getMessage().startswith("imap session failed"):
            self.retry_delays.append(record.args[2])


@POSTGRESQL_ONLY
def test_two_pollers_on_one_mailbox_store_each_message_once(database_url, engine, dovecot, user, imap_log):
    """Two pollers of one folder: the advisory lock lets one read, and the other takes over when it stops."""
    dovecot.append_many(user, numbered_mail(100, "first"))
    settings = imap_settings(dovecot, user, database_url, imap_batch_size=30, imap_poll_seconds=1)
    stops = {"one": threading.Event(), "two": threading.Event()}
    with polling(settings, engine, stop=stops["one"], name="one"), \
            polling(settings, engine, stop=stops["two"], name="two"):
        wait_until(caught_up(engine, settings, 100), "the backfill")
        wait_until(lambda: records(imap_log, "mailbox locked by another poller"), "the second poller to wait")
        holder = {record.threadName for record in records(imap_log, "batch stored")}
        assert len(holder) == 1
        stops[holder.pop()].set()
        dovecot.append_many(user, numbered_mail(10, "second"))
        wait_until(caught_up(engine, settings, 110), "the other poller to take over")

    assert stored_count(engine) == 110
    assert len({record.threadName for record in records(imap_log, "batch stored")}) == 2
    assert sum(record.args[4] for record in records(imap_log, "batch stored")) == 0


@SQLITE_ONLY
def test_post_store_actions_flag_and_move_and_delete_nothing(database_url, engine, dovecot, user):
    """After the commit read messages get \\Seen and $Triaged and MOVE to Triaged; none is deleted."""
    mail = numbered_mail(5, "act")
    dovecot.append_many(user, mail)
    settings = imap_settings(dovecot, user, database_url, imap_mark_seen=True, imap_add_keyword="$Triaged",
                             imap_move_to="Triaged")
    with polling(settings, engine):
        wait_until(lambda: len(dovecot.messages(user, "INBOX")) == 0, "the messages to be moved")
    moved = dovecot.messages(user, "Triaged")
    assert sorted(sha(item[b"BODY[]"]) for item in moved.values()) == sorted(stored_hashes(engine))
    assert len(moved) == 5
    assert all({b"\\Seen", b"$Triaged"} <= set(item[b"FLAGS"]) and b"\\Deleted" not in item[b"FLAGS"]
               for item in moved.values())


@SQLITE_ONLY
def test_server_without_idle_or_move_is_polled_and_nothing_moves(database_url, engine, new_dovecot, imap_log):
    """Without IDLE the folder is polled; without MOVE nothing moves; each lack is logged once."""
    server, user = new_dovecot(NO_IDLE_NO_MOVE), "desk"
    server.append_many(user, numbered_mail(3, "poll"))
    settings = imap_settings(server, user, database_url, imap_poll_seconds=1, imap_add_keyword="$Triaged",
                             imap_move_to="Triaged")
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, 3), "the backfill")
        uid = server.append(user, numbered_mail(1, "polled")[0])
        wait_until(caught_up(engine, settings, uid), "the next poll")
    inbox = server.messages(user, "INBOX")
    assert len(inbox) == 4 and all(b"$Triaged" in item[b"FLAGS"] for item in inbox.values())
    with server.client(user) as client:
        assert not client.folder_exists("Triaged")
    assert len(records(imap_log, "server does not offer MOVE")) == 1
    assert len(records(imap_log, "server does not offer IDLE")) == 1


@pytest.fixture(scope="module")
def oauth_dovecot():
    """A Dovecot that also offers AUTH=XOAUTH2, with a user whose bearer token is TOKEN."""
    server = start_dovecot({"oauth": TOKEN}, XOAUTH2_CONFIG)
    yield server
    server.remove()


def oauth_settings(server: Dovecot, database_url: str, **credentials) -> Settings:
    return imap_settings(server, "oauth", database_url, imap_password=None, **credentials)


@SQLITE_ONLY
def test_xoauth2_token_from_command_logs_in_and_is_never_logged(database_url, oauth_dovecot, imap_log):
    """The token command's stdout, stripped, is the XOAUTH2 bearer token; it appears in no log line.

    Dovecot checks an XOAUTH2 token with its passdb as it checks a password; a real OAuth2
    provider cannot run here, so the passwd-file holds the token and the SASL exchange is real.
    """
    command = f"{shlex.quote(sys.executable)} -c \"print('  {TOKEN}  ')\""
    with connect(oauth_settings(oauth_dovecot, database_url, imap_oauth2_token_command=command)) as client:
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    assert "auth=xoauth2" in imap_log.text and TOKEN not in imap_log.text


@SQLITE_ONLY
def test_xoauth2_token_from_file_polls_mail(database_url, engine, oauth_dovecot, tmp_path):
    """A token read from a file (trailing newline stripped) logs the poller in, and mail is stored."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    uid = oauth_dovecot.append("oauth", numbered_mail(1, "oauth")[0])
    settings = oauth_settings(oauth_dovecot, database_url, imap_oauth2_token_file=token_file)
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, uid), "the message read with XOAUTH2")
    assert stored_count(engine) == 1


@SQLITE_ONLY
@pytest.mark.parametrize(("script", "expected"), [
    ("print('wrong-token')", "login refused"),
    (f"import sys; print('{TOKEN}'); sys.exit(3)", "exited with status 3"),
    ("print('   ')", "empty token"),
])
def test_bad_oauth2_token_is_a_login_error_without_the_token(database_url, oauth_dovecot, script, expected):
    """A refused, failed or empty token gives ImapLoginError, whose message never holds the token."""
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    with pytest.raises(ImapLoginError, match=expected) as raised:
        connect(oauth_settings(oauth_dovecot, database_url, imap_oauth2_token_command=command))
    assert TOKEN not in str(raised.value) and "wrong-token" not in str(raised.value)


@SQLITE_ONLY
def test_xoauth2_needs_the_capability(database_url, dovecot, user, tmp_path):
    """A server not offering AUTH=XOAUTH2 is refused before the token is sent."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    settings = imap_settings(dovecot, user, database_url, imap_password=None, imap_oauth2_token_file=token_file)
    with pytest.raises(ImapLoginError, match="does not offer AUTH=XOAUTH2"):
        connect(settings)


def test_torture_set_never_stops_the_poller(database_url, engine, dovecot, user):
    """Every hostile message the server accepts is stored as the server holds it; the empty one it refuses."""
    accepted = 0
    for name in sorted(torture.TORTURE_SET):
        try:
            dovecot.append(user, torture.TORTURE_SET[name]())
            accepted += 1
        except IMAPClientError:
            assert name == "empty"
    assert accepted >= len(torture.TORTURE_SET) - 1
    settings = imap_settings(dovecot, user, database_url, imap_batch_size=3)
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, server_state(dovecot, user)[1]), "the torture set", timeout=120)
    on_server = [sha(item[b"BODY[]"]) for item in dovecot.messages(user).values()]
    assert len(on_server) == accepted
    assert sorted(stored_hashes(engine)) == sorted(on_server)


@SQLITE_ONLY
def test_since_bounds_the_backfill_by_internal_date(database_url, engine, dovecot, user):
    """With imap_since set, messages the server dates before that day are never read."""
    old, recent = numbered_mail(2, "old"), numbered_mail(2, "recent")
    for raw in old:
        dovecot.append(user, raw, msg_time=datetime(2020, 1, 15, 12, 0, tzinfo=timezone.utc))
    for raw in recent:
        uid = dovecot.append(user, raw)
    settings = imap_settings(dovecot, user, database_url, imap_since=date(2024, 1, 1))
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, uid), "the bounded backfill")
    assert sorted(stored_hashes(engine)) == sorted(sha(raw) for raw in recent)


@SQLITE_ONLY
def test_oversized_message_is_refused_and_passed(database_url, engine, dovecot, user, imap_log):
    """A message over max_message_bytes is logged as refused and the poller reads on past it."""
    small = numbered_mail(2, "small")
    large = small[0].replace(b"Where", b"x" * 3000 + b"\r\nWhere")
    dovecot.append_many(user, [small[0], large, small[1]])
    settings = imap_settings(dovecot, user, database_url, max_message_bytes=2000)
    with polling(settings, engine):
        wait_until(caught_up(engine, settings, 3), "the read")
    assert sorted(stored_hashes(engine)) == sorted(sha(raw) for raw in small)
    assert [record.args[1] for record in records(imap_log, "message refused")] == [2]


def test_cursor_moves_only_with_the_stored_batch(database_url, engine):
    """A batch whose transaction rolls back leaves neither its messages nor a moved cursor."""
    mailbox = Mailbox.of("desk", "imap.example", 993, "INBOX")
    with Session(engine) as session, session.begin():
        position = open_position(session, mailbox=mailbox, uidvalidity=7)
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        store_batch(session, mailbox=mailbox, position=position, messages=[(1, numbered_mail(1, "tx")[0])],
                    last_uid=1)
        raise RuntimeError("crash before the commit")
    with Session(engine) as session:
        assert session.get(ImapCursor, (mailbox.account, mailbox.folder)).last_uid == 0
    assert stored_count(engine) == 0
    assert position == Position(7, 0)


@SQLITE_ONLY
def test_poll_command_runs_until_sigterm(database_url, engine, dovecot, user):
    """`triage poll` stores mail, logs without secrets, and exits cleanly on SIGTERM."""
    uid = dovecot.append(user, numbered_mail(1, "cli")[0])
    env = {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_DATABASE_URL": database_url,
           "TRIAGE_IMAP_HOST": "127.0.0.1", "TRIAGE_IMAP_PORT": str(dovecot.port), "TRIAGE_IMAP_SSL": "false",
           "TRIAGE_IMAP_USERNAME": user, "TRIAGE_IMAP_PASSWORD": PASSWORD, "TRIAGE_IMAP_FOLDERS": '["INBOX"]'}
    process = subprocess.Popen([sys.executable, "-m", "triage", "poll"], env=env, stderr=subprocess.PIPE)
    try:
        settings = imap_settings(dovecot, user, database_url)
        wait_until(caught_up(engine, settings, uid), "the command to store the message")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 0
    assert b"batch stored" in stderr and PASSWORD.encode() not in stderr
    assert stored_count(engine) == 1
