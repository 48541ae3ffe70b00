"""Worker processes: one parent loads the model, forks N workers and keeps them running.

Why processes: triage is CPU-bound Python, so threads share one core through the GIL;
processes use every core and fail alone.  Why fork after loading rather than load in each
child: measured on the 2-core VM with the corpus model, loading takes 4-6 s and leaves a
process at 306 MB resident, while a child forked from the loaded, warmed-up parent shares
those pages copy-on-write and, after triaging 1,500 messages, holds 36 MB of its own
(296 MB resident, Pss 121 MB with two children, 87 MB with four).  So the parent loads the
model once, triages a few built-in messages to build the lazy parts (an extraction
pipeline per language), and then only forks and waits: it starts no thread, so
forking again later is safe.

Each child opens its own database engine and runs ``triage.worker.run_worker``.  SIGTERM
or SIGINT to the parent is passed to the children, which finish the message in hand, give
back the rest of their batch and exit; a child still busy after ``worker_stop_seconds``
is killed, and its claims wait out their lease.  A child that dies otherwise has its
claims' leases ended at once (the next worker takes them) and is started again after 0.5, 1, 2 ... up to 30 s (the delay resets once a child has lived a minute).
A child whose parent has died stops by itself.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

from sqlmodel import Session

from triage.db.engine import make_engine
from triage.db.queries import expire_claims
from triage.extract.pipeline import pipeline as extraction_pipeline
from triage.model_ops import load_or_train
from triage.pipeline import TriageContext, context_for, triage
from triage.retry import backoff_seconds
from triage.settings import Settings
from triage.logs import error_text
from triage.worker import elapsed_ms, run_worker, worker_id

log = logging.getLogger("triage.supervisor")

RESTART_FIRST, RESTART_CAP, STABLE_SECONDS = 0.5, 30.0, 60.0
WARM_UP = (
    b"Subject: Withdrawal status\r\n\r\nHello, where is my withdrawal to account U1234567? Thanks.\r\n",
    "Subject: =?utf-8?b?0JLRi9Cy0L7QtCDRgdGA0LXQtNGB0YLQsg==?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Здравствуйте, когда поступят деньги на счёт?\r\n".encode(),
    "Subject: Retiro\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n¿Cuándo llegará mi retiro?\r\n".encode(),
)


@dataclass
class Slot:
    """One worker position: its current process, when it started, and its recent deaths."""

    index: int
    pid: int = 0
    started: float = 0.0
    failures: int = 0
    restart_at: float = 0.0


def warm_up(context: TriageContext) -> None:
    """Build the lazily built parts before the fork, so that children share them and no
    client's message waits for them: the extraction pipeline of each language (0.2-0.3 s
    each), then whatever a few built-in messages touch."""
    for language in context.languages:
        extraction_pipeline(language)
    for raw in WARM_UP:
        triage(raw, context)


def run_supervisor(settings: Settings, concurrency: int, stop: threading.Event, parent: int | None = None) -> int:
    """Load the model (trained from the corpus first when there is none), then supervise workers."""
    started = time.perf_counter()
    model = load_or_train(settings, progress=lambda step: log.info("training the model", extra={"step": step}))
    context = context_for(settings, model)
    log.info("model loaded", extra={"model_version": model.version, "duration_ms": elapsed_ms(started)})
    return supervise(settings, context, concurrency, stop, parent)


def supervise(settings: Settings, context: TriageContext, concurrency: int, stop: threading.Event,
              parent: int | None = None) -> int:
    """Run ``concurrency`` worker processes until ``stop`` is set; 0 when all ended cleanly.

    With ``parent``, also stop once that process is gone (``triage run`` died).  The
    workers are stopped however this ends, an error in the parent included.
    """
    if stop.is_set():
        return 0
    started = time.perf_counter()
    warm_up(context)
    log.info("warmed up", extra={"duration_ms": elapsed_ms(started)})
    slots = [Slot(index) for index in range(concurrency)]
    try:
        keep_running(slots, settings, context, stop, parent)
    finally:
        status = shut_down(slots, settings.worker_stop_seconds)
    return status


def keep_running(slots: list[Slot], settings: Settings, context: TriageContext, stop: threading.Event,
                 parent: int | None) -> None:
    """Start each slot's worker, and start it again after a backoff when it dies, until ``stop``."""
    while not stop.is_set():
        for slot in slots:
            if slot.pid == 0 and time.monotonic() >= slot.restart_at:
                start(slot, settings, context)
        reap(slots, stop, settings)
        if parent is not None and os.getppid() != parent:
            log.warning("parent gone; stopping", extra={"parent_pid": parent})
            return
        stop.wait(0.2)


def spawn_supervisor(settings: Settings, concurrency: int) -> int:
    """Fork a process that runs ``run_supervisor`` until SIGTERM; its pid.

    For ``triage run``: call it before any thread starts, so the fork copies one thread.
    """
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = run_supervisor(settings, concurrency, stop_on_signals(), parent)
        except Exception:  # noqa: BLE001 - logged; ``triage run`` sees the exit status
            log.exception("worker supervisor crashed")
        finally:
            logging.shutdown()
            os._exit(code)
    return pid


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set, replacing whatever handlers were inherited."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def start(slot: Slot, settings: Settings, context: TriageContext) -> None:
    """Fork a worker process for ``slot``."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        # The child must never return into the parent's loop, whatever happens in it.
        code = 1
        try:
            code = child_main(settings, context, slot.index, parent)
        finally:
            os._exit(code)
    slot.pid, slot.started = pid, time.monotonic()
    log.info("worker process started", extra={"slot": slot.index, "child_pid": pid})


def child_main(settings: Settings, context: TriageContext, index: int, parent: int) -> int:
    """The life of one worker process; its exit status."""
    stop = stop_on_signals()
    threading.Thread(target=watch_parent, args=(parent, stop), name="parent-watch", daemon=True).start()
    try:
        run_worker(settings, stop, context, index)
        return 0
    except Exception:  # noqa: BLE001 - logged here; the parent starts a new worker
        log.exception("worker process crashed", extra={"slot": index})
        return 1
    finally:
        logging.shutdown()


def watch_parent(parent: int, stop: threading.Event) -> None:
    """Stop this worker when its parent has gone: nobody would restart or stop it."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.warning("parent gone; stopping", extra={"parent_pid": parent})
            stop.set()


def reap(slots: list[Slot], stop: threading.Event, settings: Settings) -> None:
    """Collect ended children, free their claims at once and schedule their restart after a backoff."""
    for slot in slots:
        if slot.pid == 0:
            continue
        pid, status = os.waitpid(slot.pid, os.WNOHANG)
        if pid == 0:
            continue
        lived = time.monotonic() - slot.started
        slot.failures = 1 if lived >= STABLE_SECONDS else slot.failures + 1
        delay = backoff_seconds(slot.failures, RESTART_FIRST, RESTART_CAP)
        slot.pid, slot.restart_at = 0, time.monotonic() + delay
        if not stop.is_set():
            log.error("worker process died; restarting", extra={
                "slot": slot.index, "child_pid": pid, "exit": describe_status(status), "restart_in": delay})
            expire_claims_of(settings, worker_id(slot.index, pid))


def expire_claims_of(settings: Settings, worker: str) -> None:
    """End a dead worker's leases so its messages wait seconds, not the lease, for another worker.

    A short-lived engine of its own: the parent holds no connection across the forks it makes.
    If the database cannot be reached now, the leases run out as usual.
    """
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            expired = expire_claims(session, worker)
        log.info("claims of a dead worker expired", extra={"worker": worker, "messages": expired})
    except Exception as error:  # noqa: BLE001 - the lease is the fallback
        log.warning("could not expire a dead worker's claims; they wait out their lease",
                    extra={"worker": worker, "error": error_text(error)})
    finally:
        engine.dispose()


def shut_down(slots: list[Slot], grace_seconds: float) -> int:
    """SIGTERM every child, wait up to ``grace_seconds``, SIGKILL what is left; 0 if all exited 0."""
    running = {slot.pid for slot in slots if slot.pid}
    for pid in running:
        signal_child(pid, signal.SIGTERM)
    deadline, clean = time.monotonic() + grace_seconds, True
    while running:
        if time.monotonic() >= deadline:
            for pid in running:
                log.error("worker process did not stop; killing it", extra={"child_pid": pid})
                signal_child(pid, signal.SIGKILL)
            deadline = float("inf")
        for pid in list(running):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                clean = clean and os.waitstatus_to_exitcode(status) == 0
                running.discard(pid)
        time.sleep(0.05)
    log.info("workers stopped", extra={"clean": clean})
    return 0 if clean else 1


def signal_child(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def describe_status(status: int) -> str:
    """``exit 1`` or ``signal SIGKILL``, from a waitpid status."""
    code = os.waitstatus_to_exitcode(status)
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
