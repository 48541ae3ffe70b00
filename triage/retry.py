"""Retries as a value: how often a failing message is tried again, and after how long.

A frozen policy with a pure ``decide``; the worker loop asks it after each failure and
either queues the message again after the delay or parks it as failed for an operator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: try again after ``delay_seconds``, or stop."""

    retry: bool
    delay_seconds: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from ``base_seconds``, capped, for at most ``max_attempts`` attempts."""

    max_attempts: int = 5
    base_seconds: int = 30
    cap_seconds: int = 3600

    def decide(self, attempts: int) -> Decision:
        """The decision after ``attempts`` attempts (the failed one included) have been made."""
        if attempts >= self.max_attempts:
            return Decision(retry=False)
        return Decision(retry=True, delay_seconds=min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0)))
