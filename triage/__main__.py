"""``python -m triage`` runs the command line."""

from triage.cli import app

app(prog_name="triage")
