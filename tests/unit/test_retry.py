"""The retry policy as a table: attempts made so far in, retry or park and the delay out."""

from __future__ import annotations

import pytest

from triage.retry import Decision, RetryPolicy


@pytest.mark.parametrize(("policy", "attempts", "expected"), [
    (RetryPolicy(), 1, Decision(retry=True, delay_seconds=30)),
    (RetryPolicy(), 2, Decision(retry=True, delay_seconds=60)),
    (RetryPolicy(), 3, Decision(retry=True, delay_seconds=120)),
    (RetryPolicy(), 4, Decision(retry=True, delay_seconds=240)),
    (RetryPolicy(), 5, Decision(retry=False)),
    (RetryPolicy(), 9, Decision(retry=False)),
    (RetryPolicy(max_attempts=20, base_seconds=30, cap_seconds=3600), 8, Decision(retry=True, delay_seconds=3600)),
    (RetryPolicy(max_attempts=20, base_seconds=30, cap_seconds=3600), 19, Decision(retry=True, delay_seconds=3600)),
    (RetryPolicy(max_attempts=3, base_seconds=0), 2, Decision(retry=True, delay_seconds=0)),
    (RetryPolicy(max_attempts=1), 1, Decision(retry=False)),
    (RetryPolicy(), 0, Decision(retry=True, delay_seconds=30)),
])
def test_decide(policy, attempts, expected):
    """Each failed attempt doubles the wait up to the cap; the last allowed attempt parks the message."""
    assert policy.decide(attempts) == expected


def test_policy_is_a_frozen_value():
    """A policy cannot be changed in place, so one shared by workers stays what it was."""
    with pytest.raises(AttributeError):
        RetryPolicy().max_attempts = 1  # type: ignore[misc]
