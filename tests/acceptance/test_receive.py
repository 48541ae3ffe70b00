"""``triage receive`` and ``triage send-sample`` as an operator runs them, in subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from sqlmodel import Session, select

from triage.db.models import Message
from tests.commands import free_port


def wait_until_listening(port: int, receiver: subprocess.Popen, seconds: float = 120) -> None:
    """Return once ``port`` accepts connections; fail if the receiver exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert receiver.poll() is None, receiver.communicate()[1].decode(errors="replace")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listening on port {port} after {seconds} s")


def test_receive_stores_what_send_sample_sends_and_stops_on_sigterm(database_url, engine):
    """send-sample prints the receiver's 250 Stored; the row is there; SIGTERM ends receive cleanly."""
    port = free_port()
    env = {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_DATABASE_URL": database_url,
           "TRIAGE_SMTP_PORT": str(port)}
    receiver = subprocess.Popen([sys.executable, "-m", "triage", "receive"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, receiver)
        sent = subprocess.run([sys.executable, "-m", "triage", "send-sample"], env=env,
                              capture_output=True, timeout=120, check=False)
        refused = subprocess.run([sys.executable, "-m", "triage", "send-sample", "--to", "x@elsewhere.example"],
                                 env=env, capture_output=True, timeout=120, check=False)
    finally:
        receiver.send_signal(signal.SIGTERM)
        _, log = receiver.communicate(timeout=60)
    assert (sent.returncode, sent.stdout) == (0, b"250 2.0.0 Stored\n"), sent.stderr.decode(errors="replace")
    assert (refused.returncode, refused.stdout) == (1, b"550 5.1.1 Recipient not accepted here\n")
    assert receiver.returncode == 0, log.decode(errors="replace")
    assert b"INFO triage.smtp data peer=127.0.0.1" in log and b"x@elsewhere" not in log
    with Session(engine) as session:
        assert session.exec(select(Message.source)).all() == ["smtp:127.0.0.1"]
