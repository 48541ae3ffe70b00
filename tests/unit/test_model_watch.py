"""The supervisor's watch for a newly promoted model: when it looks, and what it skips."""

from __future__ import annotations

import threading
import time

from classifiers.artifacts import activate_version
from triage.supervisor import ModelWatch


def test_the_watch_looks_when_its_interval_has_passed_or_when_asked(tmp_path):
    activate_version(tmp_path, "m-1")
    watch = ModelWatch(tmp_path, interval=3600, asked=threading.Event(), next_look=time.monotonic() + 3600)
    activate_version(tmp_path, "m-2")
    assert watch.promoted("m-1") is None, "looked before its interval"
    watch.next_look = time.monotonic() - 1
    assert watch.promoted("m-1") == "m-2"
    watch.next_look = time.monotonic() + 3600
    watch.asked.set()
    assert watch.promoted("m-1") == "m-2" and not watch.asked.is_set()


def test_the_watch_skips_the_running_a_refused_and_a_missing_version(tmp_path):
    watch = ModelWatch(tmp_path, interval=0, asked=threading.Event())
    watch.asked.set()
    assert watch.promoted("m-1") is None, "no ACTIVE file yet"
    activate_version(tmp_path, "m-1")
    watch.asked.set()
    assert watch.promoted("m-1") is None, "the version already running"
    activate_version(tmp_path, "m-bad")
    watch.refused = "m-bad"
    watch.asked.set()
    assert watch.promoted("m-1") is None, "a version that did not load is not tried again"
    assert ModelWatch(tmp_path, interval=0, asked=threading.Event()).promoted("m-1") is None, "0: only when asked"
