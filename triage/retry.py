"""Retries as a value: whether a failed message is tried again, and after how long.

A frozen policy with a pure ``decide(error, attempts)``; the worker loop asks it after each
failure and either queues the message again after the delay or parks it as failed for an
operator.  An error that will come back on every attempt with the same bytes (an error
class marked ``permanent``, a value the database refuses) parks the message at once;
anything else, transient or unknown, is retried with exponential backoff and jitter up to
``max_attempts``, since an unknown error may come from the host rather than the message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

# Errors the database raises for this message's values: the same on every attempt.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (DataError, IntegrityError, UnicodeError, RecursionError)
# Errors of the moment: a database restarting or locked, a timeout, a dropped connection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, TimeoutError,
                                                     ConnectionError)


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: try again after ``delay_seconds``, or park; and why."""

    retry: bool
    delay_seconds: float = 0.0
    reason: str = ""


def is_permanent(error: BaseException) -> bool:
    """True when ``error`` would come back on every attempt with the same message."""
    return bool(getattr(error, "permanent", False)) or isinstance(error, PERMANENT_ERRORS)


def is_transient(error: BaseException) -> bool:
    """True for errors of the moment that a later attempt is expected to get past."""
    return isinstance(error, TRANSIENT_ERRORS)


def backoff_seconds(failures: int, first: float, cap: float) -> float:
    """``first`` after the first failure, doubled after each further one, at most ``cap``."""
    return min(cap, first * 2 ** max(failures - 1, 0))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from ``base_seconds``, capped, for at most ``max_attempts`` attempts.

    Each delay is spread by up to ``jitter`` of itself either way, so messages that failed
    together (a database restart) do not all come back in the same instant; ``random``
    draws in [0, 1) and is a field so that tests can pin it.
    """

    max_attempts: int = 5
    base_seconds: float = 30
    cap_seconds: float = 3600
    jitter: float = 0.1
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def decide(self, error: BaseException, attempts: int) -> Decision:
        """The decision after ``attempts`` attempts (the failed one included) ended in ``error``."""
        if is_permanent(error):
            return Decision(retry=False, reason="permanent")
        if attempts >= self.max_attempts:
            return Decision(retry=False, reason="attempts exhausted")
        delay = backoff_seconds(attempts, self.base_seconds, self.cap_seconds)
        spread = 1 + self.jitter * (2 * self.random() - 1)
        return Decision(retry=True, delay_seconds=delay * spread,
                        reason="transient" if is_transient(error) else "unknown")
