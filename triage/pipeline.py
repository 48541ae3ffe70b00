"""``triage(raw) -> TriageResult``: the one entry the CLI, the worker and the tests use.

Each step is a plain function over typed records; this module composes them.  What is
measured offline is exactly what runs in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.mail.parse import DEFAULT_LIMITS, ParseLimits, parse
from triage.mail.record import Email


@dataclass(frozen=True)
class TriageResult:
    """Everything the pipeline concluded about one message.

    Later steps (language, classification, identifiers, routing, reply) add their
    records here; until they exist the output reports their keys as null.
    """

    email: Email


def triage(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> TriageResult:
    """Run every step over one raw message; no I/O beyond what the steps have loaded."""
    return TriageResult(email=parse(raw, limits))
