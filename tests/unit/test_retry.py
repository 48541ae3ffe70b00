"""The retry policy as a table: the error and the attempts made so far in, retry or park and the delay out."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from triage.errors import ImapError, MessageTooLarge, TriageError, UnreadableMessage
from triage.retry import Decision, RetryPolicy, backoff_seconds, is_permanent

EXACT = RetryPolicy(jitter=0)
LOCKED = OperationalError("UPDATE message", {}, Exception("database is locked"))


class Unrepeatable(TriageError):
    """An error class of our own marked permanent."""

    permanent = True


@pytest.mark.parametrize(("policy", "error", "attempts", "expected"), [
    (EXACT, LOCKED, 1, Decision(retry=True, delay_seconds=30, reason="transient")),
    (EXACT, LOCKED, 2, Decision(retry=True, delay_seconds=60, reason="transient")),
    (EXACT, TimeoutError(), 3, Decision(retry=True, delay_seconds=120, reason="transient")),
    (EXACT, ConnectionResetError(), 4, Decision(retry=True, delay_seconds=240, reason="transient")),
    (EXACT, LOCKED, 5, Decision(retry=False, reason="attempts exhausted")),
    (EXACT, LOCKED, 9, Decision(retry=False, reason="attempts exhausted")),
    (EXACT, ValueError("a bug"), 1, Decision(retry=True, delay_seconds=30, reason="unknown")),
    (EXACT, ImapError("not a message's fault"), 1, Decision(retry=True, delay_seconds=30, reason="unknown")),
    (EXACT, MessageTooLarge("too large"), 1, Decision(retry=False, reason="permanent")),
    (EXACT, UnreadableMessage("no bytes"), 1, Decision(retry=False, reason="permanent")),
    (EXACT, Unrepeatable("marked"), 1, Decision(retry=False, reason="permanent")),
    (EXACT, DataError("INSERT", {}, Exception("value too long")), 1, Decision(retry=False, reason="permanent")),
    (EXACT, IntegrityError("INSERT", {}, Exception("violates")), 2, Decision(retry=False, reason="permanent")),
    (EXACT, UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid"), 1, Decision(retry=False, reason="permanent")),
    (RetryPolicy(max_attempts=20, jitter=0), LOCKED, 8, Decision(retry=True, delay_seconds=3600, reason="transient")),
    (RetryPolicy(max_attempts=20, jitter=0), LOCKED, 19, Decision(retry=True, delay_seconds=3600, reason="transient")),
    (RetryPolicy(max_attempts=3, base_seconds=0), LOCKED, 2, Decision(retry=True, delay_seconds=0, reason="transient")),
    (RetryPolicy(max_attempts=1), LOCKED, 1, Decision(retry=False, reason="attempts exhausted")),
    (EXACT, LOCKED, 0, Decision(retry=True, delay_seconds=30, reason="transient")),
])
def test_decide(policy, error, attempts, expected):
    """A permanent error parks at once; any other doubles its wait up to the cap until the last attempt parks it."""
    assert policy.decide(error, attempts) == expected


@pytest.mark.parametrize(("draw", "delay"), [(0.0, 54.0), (0.5, 60.0), (0.999999, 66.0)])
def test_jitter_spreads_the_delay_by_at_most_its_fraction(draw, delay):
    """With 10% jitter the second retry waits between 54 and 66 seconds, as the random draw says."""
    decision = RetryPolicy(jitter=0.1, random=lambda: draw).decide(LOCKED, 2)
    assert decision.retry and decision.delay_seconds == pytest.approx(delay, abs=1e-3)


def test_jitter_differs_between_decisions():
    """Messages that failed together get different delays, so they do not come back in one burst."""
    policy = RetryPolicy()
    assert len({policy.decide(LOCKED, 1).delay_seconds for _ in range(20)}) > 1


def test_a_permanent_mark_is_inherited_and_can_be_read_off_any_error():
    """Subclasses of a permanent error are permanent; plain errors are not."""
    assert is_permanent(Unrepeatable()) and is_permanent(MessageTooLarge())
    assert not is_permanent(TriageError()) and not is_permanent(LOCKED) and not is_permanent(KeyError())


@pytest.mark.parametrize(("failures", "expected"), [(0, 0.5), (1, 0.5), (2, 1.0), (5, 8.0), (7, 30.0), (50, 30.0)])
def test_backoff_doubles_up_to_its_cap(failures, expected):
    """The backoff used for restarts and reconnects: first, then doubled, then capped."""
    assert backoff_seconds(failures, 0.5, 30) == expected


def test_policy_is_a_frozen_value():
    """A policy cannot be changed in place, so one shared by workers stays what it was."""
    with pytest.raises(AttributeError):
        RetryPolicy().max_attempts = 1  # type: ignore[misc]
