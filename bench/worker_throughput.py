"""Worker throughput on PostgreSQL: one worker process against two, sharing one queue.

Each configuration gets a scratch database on the local server (default
127.0.0.1:5432), migrated with `triage db upgrade`.  Its workers are started as an operator
starts them (`triage worker`, settings by environment) on the empty queue and left to load
the model; they are ready when their processes go idle (under 5% of a core for a second).
Then N distinct messages (the fixtures, each under a numbered header) are stored as pending
in one transaction, which wakes them.  The clock runs from that commit to the last
triage row's ``created_at``, stamped by the worker in the transaction that commits it,
on this machine's clock.  Configurations: one `triage worker`; two `triage worker`
processes; one `triage worker --concurrency 2`.

Where the time goes, per message: CPU of the worker processes and of the PostgreSQL
server (user + system, from /proc, over the same span), transactions (pg_stat_database),
and the pipeline alone (`triage()` in this process, one message per call, no database).
"Anything else" is the rest of the machine's busy CPU over the span (this script's
polling, other programs): a figure taken on a busy machine says so.

    python bench/worker_throughput.py [--messages 3000] [--server URL] [--models DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The process and database helpers live with the tests, which are not an installed package.
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tests.postgres_cluster import scratch_database  # noqa: E402
from tests.reliability.processes import Service, run_command, service_environment  # noqa: E402
from tests.reliability.queue import Queue, fixture_mail  # noqa: E402
from triage.db.models import TriageRow  # noqa: E402

TARGET = 1.7
TICKS = os.sysconf("SC_CLK_TCK")
CONFIGURATIONS = {
    "1 x triage worker": [["worker"]],
    "2 x triage worker": [["worker"], ["worker"]],
    "triage worker --concurrency 2": [["worker", "--concurrency", "2"]],
}


@dataclass(frozen=True)
class Figures:
    """One configuration's run: messages, seconds, CPU seconds and transactions over the run."""

    messages: int
    seconds: float
    worker_cpu: float
    postgres_cpu: float
    machine_cpu: float
    transactions: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def process_stats() -> list[tuple[int, str, int, float, float]]:
    """(pid, command name, process group, own CPU seconds, reaped children's CPU seconds) of every process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = tail.split()
        found.append((int(stat.parent.name), head.split("(", 1)[1], int(fields[2]),
                      (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS))
    return found


def cpu_seconds(groups: list[int]) -> tuple[float, float, float]:
    """CPU seconds so far: of the processes in ``groups`` (the workers), of every postgres process, of the machine."""
    workers = postgres = 0.0
    for _pid, name, group, own, children in process_stats():
        if group in groups:
            workers += own
        if name == "postgres":
            postgres += own + children
    # /proc/stat's first line: user nice system idle iowait irq softirq steal ...; busy is all but idle and iowait.
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return workers, postgres, (sum(ticks) - ticks[3] - ticks[4]) / TICKS


def wait_until_idle(groups: list[int], services: list[Service]) -> None:
    """Return once the worker processes have used under 5% of a core for a second: loaded and waiting."""
    previous = cpu_seconds(groups)[0]
    started = time.monotonic()
    while True:
        time.sleep(1)
        if not all(service.alive() for service in services):
            raise SystemExit("a worker exited while starting:\n" + services[0].output()[-3000:])
        current = cpu_seconds(groups)[0]
        if current - previous < 0.05 and time.monotonic() - started > 3:
            return
        previous = current


def transactions(queue: Queue) -> int:
    """Committed and rolled-back transactions of this database so far (pg_stat_database)."""
    with queue.engine.connect() as connection:
        return connection.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                       "WHERE datname = current_database()")).scalar_one()


def last_row_time(queue: Queue) -> float:
    with Session(queue.engine) as session:
        return session.execute(select(func.max(TriageRow.created_at))).scalar_one().timestamp()


def run(commands: list[list[str]], count: int, server: str, models: Path, logs: Path) -> Figures:
    """Time ``commands`` (one `triage` process each) over ``count`` messages in a scratch database."""
    with scratch_database(server, "triage_bench") as url:
        env = service_environment(url, models)
        upgrade = run_command("db", "upgrade", env=env)
        if upgrade.returncode != 0:
            raise SystemExit(upgrade.stderr.decode())
        queue, mail = Queue(url), fixture_mail(count, "bench")
        services = [Service(*args, env=env, log=logs / f"worker-{index}.log") for index, args in enumerate(commands)]
        groups = [service.process.pid for service in services]
        try:
            wait_until_idle(groups, services)
            queue.store(mail)
            started, cpu_before, xacts_before = time.time(), cpu_seconds(groups), transactions(queue)
            while queue.counts()["done"] < count:
                time.sleep(0.2)
            cpu_after = cpu_seconds(groups)
            finished = last_row_time(queue)
            # pg_stat_database is flushed by each backend at most once a second.
            time.sleep(1.5)
            xacts = transactions(queue) - xacts_before
        finally:
            for service in services:
                service.stop()
            queue.close()
    return Figures(count, finished - started, *(after - before for after, before in zip(cpu_after, cpu_before)),
                   xacts)


def pipeline_ms(count: int, models: Path) -> float:
    """Milliseconds of one `triage()` call on these messages in this process, the database left out."""
    from triage.model_ops import load_or_train
    from triage.pipeline import context_for, triage
    from triage.settings import Settings

    settings = Settings(models_dir=models)
    context = context_for(settings, load_or_train(settings))
    mail = fixture_mail(count, "pipeline")
    for raw in mail[:50]:
        triage(raw, context)
    started = time.perf_counter()
    for raw in mail:
        triage(raw, context)
    return (time.perf_counter() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="A PostgreSQL server URL; a scratch database is made there for each run.")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--logs", type=Path, default=Path("/tmp"), help="Where the workers' logs go.")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"messages: {args.messages} per run, PostgreSQL at {args.server.rsplit('@', 1)[-1]}")
    results = {}
    for name, commands in CONFIGURATIONS.items():
        figures = results[name] = run(commands, args.messages, args.server, args.models, args.logs)
        print(f"{name:31} {figures.rate:7.1f} messages/s ({figures.messages} in {figures.seconds:.1f} s); "
              f"per message: worker CPU {figures.worker_cpu * 1000 / figures.messages:.2f} ms, "
              f"PostgreSQL CPU {figures.postgres_cpu * 1000 / figures.messages:.2f} ms, "
              f"{figures.transactions / figures.messages:.2f} transactions; "
              f"cores busy {(figures.worker_cpu + figures.postgres_cpu) / figures.seconds:.2f} of {os.cpu_count()} "
              f"(anything else {(figures.machine_cpu - figures.worker_cpu - figures.postgres_cpu) / figures.seconds:.2f})")
    one = results["1 x triage worker"].rate
    for name in list(CONFIGURATIONS)[1:]:
        print(f"ratio {name} / 1 x triage worker: {results[name].rate / one:.2f} (target >= {TARGET})")
    print(f"pipeline alone (triage(), one message per call, no database): "
          f"{pipeline_ms(min(args.messages, 1000), args.models):.2f} ms per message")


if __name__ == "__main__":
    main()
