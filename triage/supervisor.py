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
claims' leases ended at once (the next worker takes them) and is started again after 0.5,
1, 2 ... up to 30 s (the delay resets once a child has lived a minute).
A child whose parent has died stops by itself.

When ``triage train`` promotes another model (the ACTIVE pointer of the models folder
names a new version), the parent notices within ``worker_model_check_seconds``, or at
once on SIGHUP: it loads and warms the new model while the workers go on with the old
one, then replaces them one at a time, each finishing the message in hand first, so mail
keeps flowing.  A promoted model that does not load (a missing or tampered file) is
logged and skipped; the workers keep the model they have.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from classifiers.artifacts import active_version, load_bundle
from triage.db.engine import make_engine
from triage.db.queries import expire_claims
from triage.extract.pipeline import pipeline as extraction_pipeline
from triage.logs import error_text
from triage.model_ops import load_or_train
from triage.pipeline import TriageContext, context_for, triage
from triage.retry import backoff_seconds
from triage.settings import Settings
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
    """One worker position: its current process, when it started, its recent deaths, the
    model version it runs, and, while it is being replaced for a new model, by when."""

    index: int
    pid: int = 0
    started: float = 0.0
    failures: int = 0
    restart_at: float = 0.0
    model_version: str | None = None
    retire_by: float = 0.0


@dataclass
class ModelWatch:
    """Notices a newly promoted model: every ``interval`` seconds (0: never by itself), or
    at once when ``asked`` is set (SIGHUP)."""

    models_dir: Path
    interval: float
    asked: threading.Event
    next_look: float = 0.0
    refused: str | None = None

    def promoted(self, running: str | None) -> str | None:
        """The active version when it is time to look and it is not ``running`` (nor refused); else None."""
        now = time.monotonic()
        if not self.asked.is_set() and (self.interval <= 0 or now < self.next_look):
            return None
        self.asked.clear()
        self.next_look = now + self.interval
        try:
            version = active_version(self.models_dir)
        except OSError as error:
            log.warning("could not read the active model version", extra={"error": error_text(error)})
            return None
        return None if version in (None, running, self.refused) else version


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
    look_now = reload_on_hangup()  # first, so that a SIGHUP during training does not end the process
    started = time.perf_counter()
    model = load_or_train(settings, progress=lambda step: log.info("training the model", extra={"step": step}))
    context = context_for(settings, model)
    log.info("model loaded", extra={"model_version": model.version, "duration_ms": elapsed_ms(started)})
    return supervise(settings, context, concurrency, stop, parent, look_now)


def supervise(settings: Settings, context: TriageContext, concurrency: int, stop: threading.Event,
              parent: int | None = None, look_now: threading.Event | None = None) -> int:
    """Run ``concurrency`` worker processes until ``stop`` is set; 0 when all ended cleanly.

    With ``parent``, also stop once that process is gone (``triage run`` died).  Setting
    ``look_now`` makes the parent look for a newly promoted model at once.  The workers
    are stopped however this ends, an error in the parent included.
    """
    if stop.is_set():
        return 0
    started = time.perf_counter()
    warm_up(context)
    log.info("warmed up", extra={"duration_ms": elapsed_ms(started)})
    slots = [Slot(index) for index in range(concurrency)]
    watch = ModelWatch(settings.models_dir, settings.worker_model_check_seconds, look_now or threading.Event(),
                       next_look=time.monotonic() + settings.worker_model_check_seconds)
    try:
        keep_running(slots, settings, context, stop, parent, watch)
    finally:
        status = shut_down(slots, settings.worker_stop_seconds)
    return status


def keep_running(slots: list[Slot], settings: Settings, context: TriageContext, stop: threading.Event,
                 parent: int | None, watch: ModelWatch) -> None:
    """Start each slot's worker, and start it again after a backoff when it dies, until ``stop``;
    move the workers to a newly promoted model one at a time."""
    while not stop.is_set():
        version = watch.promoted(version_of(context))
        if version is not None:
            context = with_model(settings, context, version, watch)
        for slot in slots:
            if slot.pid == 0 and time.monotonic() >= slot.restart_at:
                start(slot, settings, context)
        retire_one_stale(slots, version_of(context), settings.worker_stop_seconds)
        reap(slots, stop, settings)
        if parent is not None and os.getppid() != parent:
            log.warning("parent gone; stopping", extra={"parent_pid": parent})
            return
        stop.wait(0.2)


def version_of(context: TriageContext) -> str | None:
    return context.model.version if context.model is not None else None


def with_model(settings: Settings, context: TriageContext, version: str, watch: ModelWatch) -> TriageContext:
    """A context with model ``version`` loaded and warmed up; the old one when it does not load."""
    started = time.perf_counter()
    try:
        model = load_bundle(settings.models_dir, version)
        fresh = context_for(settings, model)
        warm_up(fresh)
    except Exception as error:  # noqa: BLE001 - a bad artifact must not stop the running workers
        watch.refused = version
        log.error("promoted model did not load; workers keep theirs", extra={
            "model_version": version, "running_version": version_of(context), "error": error_text(error)})
        return context
    log.info("promoted model loaded; replacing workers", extra={
        "model_version": version, "duration_ms": elapsed_ms(started)})
    return fresh


def retire_one_stale(slots: list[Slot], version: str | None, grace_seconds: float) -> None:
    """Ask one worker that runs another model than ``version`` to stop (it finishes the
    message in hand; ``reap`` starts its successor at once); kill one that overstays."""
    retiring = [slot for slot in slots if slot.pid and slot.retire_by]
    for slot in retiring:
        if time.monotonic() > slot.retire_by:
            log.error("worker process did not stop for the new model; killing it", extra={"child_pid": slot.pid})
            signal_child(slot.pid, signal.SIGKILL)
            slot.retire_by = float("inf")
    if retiring:
        return
    stale = next((slot for slot in slots if slot.pid and slot.model_version != version), None)
    if stale is not None:
        log.info("worker process stopping for the new model", extra={
            "slot": stale.index, "child_pid": stale.pid, "model_version": stale.model_version})
        signal_child(stale.pid, signal.SIGTERM)
        stale.retire_by = time.monotonic() + grace_seconds


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


def reload_on_hangup() -> threading.Event:
    """An event that SIGHUP sets: look for a newly promoted model now."""
    asked = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: asked.set())
    return asked


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
    slot.pid, slot.started, slot.model_version, slot.retire_by = pid, time.monotonic(), version_of(context), 0.0
    log.info("worker process started",
             extra={"slot": slot.index, "child_pid": pid, "model_version": slot.model_version})


def child_main(settings: Settings, context: TriageContext, index: int, parent: int) -> int:
    """The life of one worker process; its exit status."""
    stop = stop_on_signals()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads models; a worker keeps on
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
        if slot.retire_by:
            retired(slot, pid, status, settings)
            continue
        lived = time.monotonic() - slot.started
        slot.failures = 1 if lived >= STABLE_SECONDS else slot.failures + 1
        delay = backoff_seconds(slot.failures, RESTART_FIRST, RESTART_CAP)
        slot.pid, slot.restart_at = 0, time.monotonic() + delay
        if not stop.is_set():
            log.error("worker process died; restarting", extra={
                "slot": slot.index, "child_pid": pid, "exit": describe_status(status), "restart_in": delay})
            expire_claims_of(settings, worker_id(slot.index, pid))


def retired(slot: Slot, pid: int, status: int, settings: Settings) -> None:
    """A worker stopped for a new model: its successor starts at once; had it to be
    killed, its claims are freed as a dead worker's are."""
    slot.pid, slot.restart_at, slot.retire_by = 0, 0.0, 0.0
    log.info("worker process stopped for the new model", extra={
        "slot": slot.index, "child_pid": pid, "exit": describe_status(status)})
    if os.waitstatus_to_exitcode(status) != 0:
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
