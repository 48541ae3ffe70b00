"""``triage run``: the whole service from one command, receiver and pollers in-process, workers forked.

The worker processes are the same as ``triage worker``'s: a supervisor process, forked
here before any thread starts (a fork copies only the calling thread, so forking a
process that already runs the receiver's event loop could copy a held lock), loads the
model, training it first when there is none, and keeps the workers running.  This
process then serves SMTP, and IMAP when configured, until SIGTERM or SIGINT, stops
them, and stops the supervisor.  If the supervisor or the pollers end on their own, the
service stops with a failure status for its service manager to restart it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from sqlalchemy.engine import Engine

from triage.db.engine import make_engine
from triage.errors import ImapError
from triage.receive_imap import run_pollers
from triage.receive_smtp import start_receiver
from triage.settings import Settings
from triage.supervisor import describe_status, signal_child, spawn_supervisor

log = logging.getLogger("triage.service")


def run_service(settings: Settings, concurrency: int, stop: threading.Event) -> int:
    """Serve until ``stop`` is set; the exit status: 0 after a clean stop."""
    supervisor = spawn_supervisor(settings, concurrency)
    # SIGHUP: look for a newly promoted model now; the supervisor holds the model.
    signal.signal(signal.SIGHUP, lambda *_: signal_child(supervisor, signal.SIGHUP))
    engine = make_engine(settings.database_url)
    failed = threading.Event()
    try:
        serve(settings, engine, concurrency, supervisor, stop, failed)
    finally:
        stop.set()
        status = stop_supervisor(supervisor)
        engine.dispose()
    return 1 if failed.is_set() or status != 0 else 0


def serve(settings: Settings, engine: Engine, concurrency: int, supervisor: int, stop: threading.Event,
          failed: threading.Event) -> None:
    """The receiver and the pollers, until ``stop``, or until the supervisor or the pollers fail."""
    controller = start_receiver(settings, engine)
    try:
        pollers = start_pollers(settings, engine, stop, failed)
        log.info("triage running", extra={"smtp": f"{settings.smtp_host}:{settings.smtp_port}",
                                          "workers": concurrency, "imap": settings.imap_host})
        while not stop.wait(0.5):
            if os.waitid(os.P_PID, supervisor, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                log.error("worker supervisor ended; stopping")
                failed.set()
                stop.set()
        for thread in pollers:
            thread.join()
    finally:
        controller.stop()


def start_pollers(settings: Settings, engine: Engine, stop: threading.Event,
                  failed: threading.Event) -> list[threading.Thread]:
    """The IMAP pollers in a thread, when a server is configured; a crash sets ``failed`` and ``stop``."""
    if not settings.imap_host:
        return []

    def poll() -> None:
        try:
            run_pollers(settings, engine, stop)
        except ImapError:
            failed.set()
            stop.set()

    thread = threading.Thread(target=poll, name="imap")
    thread.start()
    return [thread]


def stop_supervisor(pid: int) -> int:
    """SIGTERM the supervisor (if still running) and wait for it; its exit status."""
    signal_child(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    log.info("worker supervisor stopped", extra={"exit": describe_status(status)})
    return code
