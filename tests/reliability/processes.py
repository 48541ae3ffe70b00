"""The service's own commands as real processes: started, killed, stopped as an operator would.

Settings go through ``TRIAGE_*`` environment variables only, so these tests and the
benchmarks depend on the command line and the settings names, not on the code behind them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# The console script installed beside the interpreter, as a user runs it.
TRIAGE = str(Path(sys.executable).with_name("triage"))
# The worker's claim lease in seconds: a crashed worker's rows are claimed again after it.
LEASE_SETTING = "TRIAGE_WORKER_LEASE_SECONDS"


def service_environment(database_url: str, models_dir: Path, **settings: object) -> dict[str, str]:
    """The environment of a triage command: the store, the models, ``settings`` as TRIAGE_NAME, no config file."""
    values = {f"TRIAGE_{name.upper()}": str(value) for name, value in settings.items()}
    return {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_DATABASE_URL": database_url,
            "TRIAGE_MODELS_DIR": str(models_dir), **values}


def run_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``triage ARGS`` to its end; the completed process, output captured."""
    return subprocess.run([TRIAGE, *args], env=env, capture_output=True, timeout=600, check=False)


class Service:
    """One long-running ``triage`` command in a process group of its own, its output in a log file.

    The group matters: a command that forks worker processes is killed or stopped whole,
    as a service manager does it.
    """

    def __init__(self, *args: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen([TRIAGE, *args], env=env, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def alive(self) -> bool:
        """True while the command's main process runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would, and reap it."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM the process group and wait; the main process's exit code."""
        self._signal_group(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def output(self) -> str:
        """What the command wrote so far: its log, for assertion messages."""
        return self.log.read_text(errors="replace")

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
