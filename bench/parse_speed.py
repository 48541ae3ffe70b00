"""Parse throughput on one core, against the bare stdlib over the same bytes.

The fixtures are replicated to 10,000 messages.  The baseline is what a plain script
would do: ``email.message_from_bytes(raw, policy=email.policy.default)`` and then
``get_body(("plain", "html")).get_content()``.  The ratio is our time over the
baseline's: at most 1.0 means ``parse()``, doing all it does, is no slower.

    python bench/parse_speed.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import time
from pathlib import Path

from triage.mail.parse import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eml"


def stdlib_body(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        body = message.get_body(("plain", "html"))
        return body.get_content() if body is not None else ""
    except (LookupError, ValueError, AttributeError):
        return ""


def rate(function, corpus: list[bytes]) -> float:
    """Messages per second of ``function`` over ``corpus``, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for raw in corpus:
            function(raw)
        best = min(best, time.perf_counter() - start)
    return len(corpus) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    samples = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
    corpus = (samples * (args.messages // len(samples) + 1))[: args.messages]
    ours = rate(parse, corpus)
    baseline = rate(stdlib_body, corpus)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"messages: {len(corpus)} ({len(samples)} fixtures replicated), one core")
    print(f"stdlib default policy + get_body: {baseline:,.0f} messages/s")
    print(f"triage parse():                   {ours:,.0f} messages/s")
    print(f"time ratio parse/stdlib: {baseline / ours:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
