"""Property-based: parse never raises on arbitrary bytes, nor on mutations of the fixtures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.mail.parse import parse
from triage.mail.record import Email

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "eml").glob("*.eml"))
FIXTURE_BYTES = [path.read_bytes() for path in FIXTURES]
MIME_WORDS = [b"\r\n", b"\n\n", b"--", b"=?utf-8?b?", b"?=", b"=", b"Content-Type: multipart/mixed; boundary=x\r\n",
              b"charset=", b">", b"\x00", b"\xff\xfe", b"<blockquote>", b"On Mon wrote:\n", b"-- \n"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parse_never_raises_on_arbitrary_bytes(raw):
    """Any bytes at all give an Email that serialises to valid UTF-8 JSON."""
    email = parse(raw)
    assert isinstance(email, Email)
    as_utf8_json(email)


def as_utf8_json(email: Email) -> bytes:
    """The record as the CLI writes it; raises if any field holds undecoded bytes."""
    return json.dumps(dataclasses.asdict(email), default=str, ensure_ascii=False).encode("utf-8")


@st.composite
def mutated_fixture(draw):
    """A fixture with a slice cut, replaced or spliced with MIME-significant bytes."""
    raw = bytearray(draw(st.sampled_from(FIXTURE_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(raw)))
        end = draw(st.integers(start, min(len(raw), start + 64)))
        filler = draw(st.one_of(st.binary(max_size=32), st.sampled_from(MIME_WORDS)))
        raw[start:end] = filler
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixture())
def test_parse_never_raises_on_mutated_fixtures(raw):
    """Real messages with cuts and splices give an Email whose text fields are strings."""
    email = parse(raw)
    assert all(isinstance(value, str) for value in (email.new_text, email.quoted_text, email.signature))
    as_utf8_json(email)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), min_size=4, max_size=4))
def test_arbitrary_bytes_in_headers_give_clean_text(parts):
    """Raw 8-bit, NUL and CR/LF bytes in From, Subject and Message-ID never leak undecoded."""
    sender, subject, message_id, body = parts
    raw = (b"From: " + sender + b"\r\nSubject: " + subject + b"\r\nMessage-ID: <" + message_id
           + b">\r\nContent-Type: text/plain\r\n\r\n" + body)
    as_utf8_json(parse(raw))
