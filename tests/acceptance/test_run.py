"""``triage run``: one process receives by SMTP and triages into the embedded SQLite store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from tests.commands import free_port


def test_run_receives_a_sample_and_triages_it(trained_models, tmp_path):
    """A sample sent with `triage send-sample` is stored and triaged; SIGTERM stops the service cleanly."""
    port = free_port()
    environment = {**os.environ, "TRIAGE_CONFIG": "/nonexistent.toml", "TRIAGE_MODELS_DIR": str(trained_models),
                   "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}", "TRIAGE_SMTP_PORT": str(port)}
    log = (tmp_path / "run.log").open("wb")
    service = subprocess.Popen([sys.executable, "-m", "triage", "run"], env=environment, stdout=log, stderr=log)
    try:
        sent = None
        for _ in range(120):
            sent = subprocess.run([sys.executable, "-m", "triage", "send-sample"], env=environment,
                                  capture_output=True, timeout=120, check=False)
            if sent.returncode == 0:
                break
            time.sleep(1)
        assert sent.returncode == 0, sent.stderr.decode()
        shown = None
        for _ in range(120):
            shown = subprocess.run([sys.executable, "-m", "triage", "show", "1"], env=environment,
                                   capture_output=True, timeout=120, check=False)
            if b'"topic"' in shown.stdout:
                break
            time.sleep(1)
        record = json.loads(shown.stdout)
        assert record["topic"] and record["model_version"] and record["team"]
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=120)
        log.close()
    assert code == 0, (tmp_path / "run.log").read_text(errors="replace")[-2000:]
    assert b"Subject" not in (tmp_path / "run.log").read_bytes(), "logs must not carry message text"
