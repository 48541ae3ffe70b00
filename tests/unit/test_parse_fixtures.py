"""Golden pairs: every hand-built fixtures/eml/*.eml parses to what its .json says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from triage.mail.parse import parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "eml"
CASES = sorted(FIXTURES.glob("*.eml"))


def squash(text: str) -> str:
    """Whitespace-insensitive form in which texts are compared."""
    return re.sub(r"\s+", " ", text).strip()


def test_there_are_enough_fixtures():
    """The golden set covers at least 60 hand-built messages in en, ru and es."""
    languages = {path.name.split("-")[0] for path in CASES}
    assert len(CASES) >= 60
    assert {"en", "ru", "es"} <= languages


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_fixture_parses_as_expected(path: Path):
    """Headers, new text, quoted text, signature, flags and attachments match the hand-written expectation."""
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    email = parse(path.read_bytes())
    assert email.subject == expected["subject"]
    assert email.normalized_subject == expected["normalized_subject"]
    assert email.from_name == expected["from_name"]
    assert email.from_address == expected["from_address"]
    for key in ("new_text", "quoted_text", "signature"):
        actual = squash(getattr(email, key))
        if key in expected:
            assert actual == squash(expected[key]), key
        for fragment in expected.get(f"{key}_contains", []):
            assert squash(fragment) in actual, f"{key} lacks {fragment!r}"
        for fragment in expected.get(f"{key}_excludes", []):
            assert squash(fragment) not in actual, f"{key} has {fragment!r}"
    assert email.forwarded == expected["forwarded"]
    assert email.auto_reply == expected["auto_reply"]
    assert email.bounce == expected["bounce"]
    assert [(a.filename, a.content_type) for a in email.attachments] == [
        (a["filename"], a["content_type"]) for a in expected["attachments"]]
    assert set(expected["warnings"]) <= set(email.warnings)
