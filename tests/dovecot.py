"""A private Dovecot IMAP server for the tests: its own folders, port, users and log.

Started exactly as the team's Dovecot notes describe, from the configuration below (kept
identical to that template; a test may append a few settings, and Dovecot takes the last
value of a setting).  The folder lives under /tmp, not pytest's tmp_path: Dovecot reads
mail as the ``dovecot`` user, and pytest's folders are private to root.  A missing
``dovecot`` program is an error, never a skip: ``apt-get install -y dovecot-imapd``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient
from tests.commands import free_port

CONFIG_TEMPLATE = """\
base_dir = @ROOT@/run
state_dir = @ROOT@/state
log_path = @ROOT@/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:@ROOT@/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u @ROOT@/users
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=@ROOT@/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = @PORT@
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
"""

PASSWORD = "secret"
APPEND_CHUNK = 500


class DovecotMissing(RuntimeError):
    """Raised when the ``dovecot`` program is not installed on this machine."""


class Dovecot:
    """One Dovecot process tree on 127.0.0.1:``port``, owned by one test run."""

    def __init__(self, extra_config: str = "") -> None:
        if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
            raise DovecotMissing("dovecot is required for the IMAP tests: apt-get install -y dovecot-imapd")
        self.root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
        self.root.chmod(0o755)
        for name in ("run", "state", "mail", "home"):
            (self.root / name).mkdir()
        self.port = free_port()
        self.config = self.root / "dovecot.conf"
        text = CONFIG_TEMPLATE.replace("@ROOT@", str(self.root)).replace("@PORT@", str(self.port))
        self.config.write_text(text + extra_config)
        self.users = self.root / "users"
        self.users.write_text("")
        self.passwords: dict[str, str] = {}
        shutil.chown(self.root / "mail", "dovecot", "dovecot")
        shutil.chown(self.root / "home", "dovecot", "dovecot")

    def add_user(self, name: str, password: str = PASSWORD) -> str:
        """Give ``name`` a mailbox with ``password``; only before ``start()``.

        A running Dovecot re-reads a changed passwd-file lazily, so a user added then may
        be refused for a moment: tests register every mailbox they need up front.
        """
        if self.running():
            raise RuntimeError("add users before starting Dovecot")
        with self.users.open("a") as users:
            users.write(f"{name}:{{PLAIN}}{password}\n")
        self.passwords[name] = password
        return name

    def start(self) -> None:
        """Start the server and wait until its port accepts connections."""
        # Dovecot forks into the background; its children must not hold our pipes open.
        subprocess.run(["dovecot", "-c", str(self.config)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.running() and port_open(self.port),
                   f"Dovecot on port {self.port}; see {self.root}/dovecot.log")

    def stop(self) -> None:
        """Stop the server like an outage: the master ends, and so does every session it served.

        ``doveadm stop`` ends the master process but lets running IMAP sessions finish their
        work, so the sessions it leaves are sent SIGTERM, which closes their connections.
        """
        master = self.master_pid()
        sessions = child_pids(master)
        self.doveadm("stop")
        wait_until(lambda: not alive(master), "the Dovecot master to exit")
        for pid in sessions:
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not any(alive(pid) for pid in sessions) and not port_open(self.port),
                   "Dovecot sessions to end")

    def running(self) -> bool:
        """True while this server's master process lives."""
        return alive(self.master_pid())

    def master_pid(self) -> int:
        """The master's process id, 0 when it is not running."""
        try:
            return int((self.root / "run" / "master.pid").read_text())
        except (FileNotFoundError, ValueError):
            return 0

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c ROOT/dovecot.conf ARGS`` and return its output."""
        done = subprocess.run(["doveadm", "-c", str(self.config), *args], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
        return done.stdout.decode()

    def client(self, user: str) -> IMAPClient:
        """A logged-in IMAP connection as ``user``."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=60)
        try:
            client.login(user, self.passwords[user])
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX", msg_time: datetime | None = None) -> int:
        """APPEND one message to ``folder`` (created when missing), dated ``msg_time``; return its UID."""
        with self.client(user) as client:
            ensure_folder(client, folder)
            response = client.append(folder, raw, msg_time=msg_time)
        # RFC 4315: "[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(response.split(b"]")[0].split()[-1])

    def append_many(self, user: str, raws: Iterable[bytes], folder: str = "INBOX") -> None:
        """APPEND many messages fast: MULTIAPPEND (RFC 3502) with LITERAL+, in chunks, when offered."""
        raws = list(raws)
        with self.client(user) as client:
            ensure_folder(client, folder)
            if not client.has_capability("MULTIAPPEND"):
                for raw in raws:
                    client.append(folder, raw)
                return
            for start in range(0, len(raws), APPEND_CHUNK):
                client.multiappend(folder, raws[start:start + APPEND_CHUNK])

    def messages(self, user: str, folder: str = "INBOX") -> dict[int, dict]:
        """UID -> {b'BODY[]', b'FLAGS'} of every message in ``folder``, read without setting \\Seen."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}


def ensure_folder(client: IMAPClient, folder: str) -> None:
    """Create ``folder`` unless it exists."""
    if not client.folder_exists(folder):
        client.create_folder(folder)


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, what: str, timeout: float = 20.0, step: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def alive(pid: int) -> bool:
    """True when process ``pid`` runs; a zombie nobody reaps counts as ended."""
    try:
        return pid > 0 and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def child_pids(parent: int) -> list[int]:
    """Process ids whose parent is ``parent``, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children
