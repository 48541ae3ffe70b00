"""Helpers for tests that run the real ``triage`` command or need a free local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_triage(*args: str, env: dict | None = None, stdin: bytes | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``triage ARGS`` as a user would, no config file read; returns the completed process."""
    return subprocess.run([sys.executable, "-m", "triage", *args], input=stdin, capture_output=True,
                          env={**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", **(env or {})},
                          cwd=cwd, timeout=600, check=False)
