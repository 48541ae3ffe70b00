"""The SMTP/LMTP receiver on a real port, with real clients, on SQLite and PostgreSQL.

Each test starts aiosmtpd on a free 127.0.0.1 port and talks to it with smtplib, a raw
socket or swaks, then looks in the database the receiver wrote to.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import smtplib
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tests.torture import TORTURE_SET, big_attachment
from triage.db.engine import make_engine
from triage.db.models import Message, MessageStatus
from triage.db.store import header_message_id
from triage.errors import ConfigError
from triage.receive_smtp import (
    REPLY_DUPLICATE,
    REPLY_EMPTY,
    REPLY_STORED,
    REPLY_TOO_BIG,
    REPLY_TRY_LATER,
    REPLY_UNKNOWN_RECIPIENT,
    StoreHandler,
    start_receiver,
)
from triage.send_sample import send_sample
from triage.settings import Settings
from tests.commands import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "eml" / "en-01-gmail-reply-alternative-qp.eml"
SENDER = "client@example.com"
DESK = "support@desk.example"

# What the receiver answers to each torture message; the others are stored.
TORTURE_REPLIES = {"big_attachment": REPLY_TOO_BIG, "empty": REPLY_EMPTY}


@pytest.fixture
def start(engine):
    """Start a receiver on a free 127.0.0.1 port with setting overrides; stopped after the test."""
    controllers = []

    def start(**overrides) -> Settings:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), **overrides)
        controllers.append(start_receiver(settings, engine))
        return settings

    yield start
    for controller in controllers:
        controller.stop()


def mail(tag: str, body: bytes = b"Where is my withdrawal?\r\n") -> bytes:
    """A small client message, distinct per tag."""
    return (b"From: Client <client@example.com>\r\nTo: support@desk.example\r\n"
            b"Subject: %s\r\nMessage-ID: <%s@client.example>\r\n\r\n" % (tag.encode(), tag.encode()) + body)


def answer(reply: str) -> tuple[int, bytes]:
    """A reply constant as smtplib reports it: the code, and the text after it."""
    code, _, rest = reply.partition(" ")
    return int(code), rest.encode()


def deliver(settings: Settings, raw: bytes, to: str = DESK, *, declare_size: bool = True) -> tuple[int, bytes]:
    """Send ``raw`` as a client would; the reply that decided it (a refusal, or DATA's reply)."""
    client_class = smtplib.LMTP if settings.smtp_lmtp else smtplib.SMTP
    with client_class(settings.smtp_host, settings.smtp_port, timeout=120) as client:
        client.ehlo()
        code, reply = client.mail(SENDER, [f"SIZE={len(raw)}"] if declare_size else [])
        if code == 250:
            code, reply = client.rcpt(to)
        if code == 250:
            try:
                code, reply = client.data(raw)
            except smtplib.SMTPDataError as error:
                code, reply = error.smtp_code, error.smtp_error
        return code, reply


def rows(engine) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)).all())


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def test_message_is_committed_before_the_client_hears_250(start, engine):
    """When sendmail returns, the message is already a committed pending row, byte for byte."""
    settings = start()
    raw = SAMPLE.read_bytes()
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        assert client.sendmail(SENDER, [DESK], raw) == {}
        [row] = rows(engine)
    assert row.raw == raw and row.size == len(raw)
    assert (row.source, row.status) == ("smtp:127.0.0.1", MessageStatus.pending.value)


def test_the_reply_to_data_says_stored(start, engine):
    """DATA is answered with the Stored reply, with its enhanced status code."""
    settings = start()
    assert deliver(settings, mail("one")) == answer(REPLY_STORED)
    assert len(rows(engine)) == 1


def test_unknown_recipient_is_refused_and_nothing_stored(start, engine):
    """Any recipient not configured gets 550 5.1.1 at RCPT: the receiver never relays."""
    settings = start()
    for recipient in ("someone@gmail.example", "support@desk.example.evil", "other@desk.example"):
        assert deliver(settings, mail(recipient), to=recipient) == answer(REPLY_UNKNOWN_RECIPIENT)
    assert rows(engine) == []


def test_configured_domain_accepts_any_local_part(start, engine):
    """With a domain configured, any address there is accepted, case-insensitively; subdomains are not."""
    settings = start(smtp_recipients=(), smtp_domains=("desk.example",))
    assert deliver(settings, mail("a"), to="Anyone.Else@Desk.Example") == answer(REPLY_STORED)
    assert deliver(settings, mail("b"), to="support@branch.desk.example") == answer(REPLY_UNKNOWN_RECIPIENT)
    assert [row.message_id for row in rows(engine)] == ["a@client.example"]


def test_oversize_message_gets_552_declared_or_not(start, engine):
    """SIZE is advertised; a larger message is refused 552 5.3.4 at MAIL or after DATA, and not stored."""
    settings = start(smtp_max_bytes=10_000)
    big = mail("big", b"x" * 70 + b"\r\n") * 200
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "10000"
    assert deliver(settings, big, declare_size=True) == answer(REPLY_TOO_BIG)
    assert deliver(settings, big, declare_size=False) == answer(REPLY_TOO_BIG)
    assert rows(engine) == []


def test_same_message_twice_gets_two_250s_and_one_row(start, engine):
    """A resent message is acknowledged again and stored once: nothing lost, nothing doubled."""
    settings = start()
    raw = SAMPLE.read_bytes()
    assert deliver(settings, raw) == answer(REPLY_STORED)
    assert deliver(settings, raw) == answer(REPLY_DUPLICATE)
    assert len(rows(engine)) == 1


def test_client_gone_mid_data_leaves_nothing_and_the_server_goes_on(start, engine):
    """A client that hangs up halfway through DATA stores nothing; the next message is accepted."""
    settings = start()
    raw = SAMPLE.read_bytes()
    with socket.create_connection((settings.smtp_host, settings.smtp_port), timeout=10) as sock, \
            sock.makefile("rb") as replies:
        assert replies.readline().startswith(b"220 ")
        for command, code in ((b"HELO client.example", b"250 "), (b"MAIL FROM:<client@example.com>", b"250 "),
                              (b"RCPT TO:<support@desk.example>", b"250 "), (b"DATA", b"354 ")):
            sock.sendall(command + b"\r\n")
            assert replies.readline().startswith(code)
        sock.sendall(raw[: len(raw) // 2])
    assert deliver(settings, mail("after")) == answer(REPLY_STORED)
    assert [row.message_id for row in rows(engine)] == ["after@client.example"]


def test_lmtp_stores_once_and_answers_once_per_recipient(start, engine):
    """In LMTP mode, DATA gets one reply per accepted recipient and the message is stored once."""
    settings = start(smtp_lmtp=True, smtp_recipients=(DESK, "cashiering@desk.example"))
    raw = SAMPLE.read_bytes()
    with smtplib.LMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        assert client.ehlo()[0] == 250
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt(DESK)[0] == 250
        assert client.rcpt("nobody@desk.example") == answer(REPLY_UNKNOWN_RECIPIENT)
        assert client.rcpt("cashiering@desk.example")[0] == 250
        assert client.data(raw) == answer(REPLY_STORED)
        assert client.getreply() == answer(REPLY_STORED)
        assert client.noop()[0] == 250
    [row] = rows(engine)
    assert (row.raw, row.source) == (raw, "lmtp:127.0.0.1")


def test_lmtp_delivery_with_smtplib_sendmail(start, engine):
    """smtplib.LMTP's sendmail delivers into an LMTP receiver."""
    settings = start(smtp_lmtp=True)
    with smtplib.LMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        assert client.sendmail(SENDER, [DESK], SAMPLE.read_bytes()) == {}
    assert len(rows(engine)) == 1


def test_auth_over_starttls_is_required_when_configured(start, engine, tmp_path):
    """With credentials and a certificate, AUTH is offered only after STARTTLS and MAIL needs it."""
    cert, key = self_signed_certificate(tmp_path)
    settings = start(smtp_username="desk", smtp_password="s3cret pass", smtp_tls_cert=cert, smtp_tls_key=key)
    context = ssl.create_default_context(cafile=str(cert))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        client.starttls(context=context)
        client.ehlo()
        assert set(client.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}
        assert client.mail(SENDER)[0] == 530
        assert client.rcpt(DESK)[0] == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("desk", "wrong")
        assert client.login("desk", "s3cret pass")[0] == 235
        assert client.sendmail(SENDER, [DESK], mail("plain")) == {}
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.starttls(context=context)
        client.ehlo()
        client.user, client.password = "desk", "s3cret pass"
        assert client.auth("LOGIN", client.auth_login, initial_response_ok=False)[0] == 235
        assert client.sendmail(SENDER, [DESK], mail("login")) == {}
    assert [row.message_id for row in rows(engine)] == ["plain@client.example", "login@client.example"]


def test_send_sample_speaks_starttls_and_auth_when_configured(start, engine, tmp_path):
    """The send-sample client upgrades to TLS, authenticates and reports the Stored reply."""
    cert, key = self_signed_certificate(tmp_path)
    settings = start(smtp_username="desk", smtp_password="s3cret", smtp_tls_cert=cert, smtp_tls_key=key)
    reply = send_sample(settings, SAMPLE.read_bytes(), DESK, settings.smtp_host, settings.smtp_port)
    assert reply == (250, "2.0.0 Stored")
    assert len(rows(engine)) == 1


# aiosmtpd rightly warns about AUTH without TLS; on the loopback that is the configuration tested.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_auth_without_tls_only_on_the_loopback(start, engine):
    """AUTH without a certificate is refused as configuration off the loopback and works on it."""
    exposed = Settings(smtp_host="0.0.0.0", smtp_port=free_port(), smtp_username="desk", smtp_password="pw")
    with pytest.raises(ConfigError, match="STARTTLS"):
        start_receiver(exposed, engine)
    settings = start(smtp_username="desk", smtp_password="pw")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 530
        client.login("desk", "pw")
        assert client.sendmail(SENDER, [DESK], mail("loopback")) == {}
    assert len(rows(engine)) == 1


def test_database_error_answers_451_and_the_retry_is_stored(start, engine, caplog):
    """While the store fails the client hears 451 4.3.0 and nothing is stored; its retry is stored."""
    caplog.set_level(logging.INFO, logger="triage.smtp")
    settings = start()
    raw = mail("retried", b"Please wire 5000 to account 77-1234\r\n")
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE message RENAME TO message_away"))
    try:
        refused = deliver(settings, raw)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE message_away RENAME TO message"))
    assert refused == answer(REPLY_TRY_LATER)
    assert rows(engine) == []
    [failure] = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert failure.startswith("store failed source=smtp:127.0.0.1 error=")
    assert "77-1234" not in failure and "retried" not in failure
    assert deliver(settings, raw) == answer(REPLY_STORED)
    assert len(rows(engine)) == 1


def test_unexpected_error_is_answered_451_without_its_text(caplog):
    """An error no step expected is logged and answered 451, never echoed to the client."""
    handler = StoreHandler(None, recipients=(DESK,), domains=(), max_bytes=1000)
    reply = asyncio.run(handler.handle_exception(RuntimeError("connection string with hunter2")))
    assert reply == REPLY_TRY_LATER
    assert [record.getMessage() for record in caplog.records] == ["session error RuntimeError"]


@pytest.mark.parametrize("name", sorted(TORTURE_SET))
def test_torture_message_never_stops_the_server(start, engine, name):
    """Each hostile message gets its reply (stored, or 552 over the size, 554 empty); the next is accepted."""
    settings = start()
    raw = TORTURE_SET[name]()
    assert deliver(settings, raw, declare_size=False) == answer(TORTURE_REPLIES.get(name, REPLY_STORED))
    assert deliver(settings, mail(f"after-{name}")) == answer(REPLY_STORED)
    assert len(rows(engine)) == (1 if name in TORTURE_REPLIES else 2)


def test_big_attachment_is_stored_under_a_higher_limit(start, engine):
    """The 25 MB attachment refused by default is stored whole when the limit allows it."""
    settings = start(smtp_max_bytes=48 * 1024 * 1024)
    raw = big_attachment()
    assert len(raw) > Settings().smtp_max_bytes
    assert deliver(settings, raw) == answer(REPLY_STORED)
    with Session(engine) as session:
        assert session.exec(select(Message.size)).one() == len(raw)


@pytest.mark.parametrize("protocol", ["ESMTP", "LMTP"])
def test_swaks_delivers_a_sample(start, engine, protocol):
    """swaks, a second real client, delivers a sample by SMTP and by LMTP."""
    settings = start(smtp_lmtp=protocol == "LMTP")
    result = subprocess.run([shutil.which("swaks") or "swaks", "--server", settings.smtp_host,
                             "--port", str(settings.smtp_port), "--protocol", protocol,
                             "--from", SENDER, "--to", DESK, "--data", f"@{SAMPLE}"],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout.decode(errors="replace")
    assert REPLY_STORED.encode() in result.stdout
    [row] = rows(engine)
    assert row.message_id == header_message_id(SAMPLE.read_bytes()) != ""


def test_logs_name_peer_size_and_code_never_the_body(start, engine, caplog):
    """Each message gives one triage.smtp line with peer, size and reply code, without its text or addresses."""
    caplog.set_level(logging.INFO, logger="triage.smtp")
    settings = start()
    raw = mail("logged", b"My balance is 4242.17 and my password hint is tulip\r\n")
    deliver(settings, raw)
    deliver(settings, raw, to="stranger@elsewhere.example")
    lines = [record.getMessage() for record in caplog.records if record.name == "triage.smtp"]
    assert f"data peer=127.0.0.1 protocol=smtp size={len(raw)} rcpts=1 code=250 reply='Stored'" in lines
    assert "rcpt refused peer=127.0.0.1 domain='elsewhere.example' code=550" in lines
    assert not any("4242" in line or "tulip" in line or "stranger" in line for line in lines)


def test_port_in_use_is_a_configuration_error(tmp_path):
    """A receiver whose port is taken fails to start with our ConfigError, not a stray thread."""
    engine = make_engine(f"sqlite:///{tmp_path / 'unused.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = Settings(smtp_host="127.0.0.1", smtp_port=taken.getsockname()[1])
        with pytest.raises(ConfigError, match="cannot listen"):
            start_receiver(settings, engine)
    engine.dispose()
