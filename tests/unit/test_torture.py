"""Bad input: every torture message gives a result with its warnings, never an exception."""

from __future__ import annotations

import pytest

from tests import torture
from triage.errors import MessageTooLarge
from triage.mail.parse import ParseLimits, parse


@pytest.mark.parametrize("name", sorted(torture.TORTURE_SET))
def test_torture_message_parses(name):
    """Each hostile message parses to an Email instead of raising."""
    email = parse(torture.TORTURE_SET[name]())
    assert isinstance(email.new_text, str)


def test_truncated_message_keeps_its_text():
    """A message cut mid-attachment still yields the text before the cut."""
    assert "deposit is missing" in parse(torture.truncated()).new_text


def test_big_attachment_is_listed_not_decoded():
    """A 25 MB attachment is listed with its size; the text is the question."""
    email = parse(torture.big_attachment())
    assert email.new_text == "Please see the statement attached."
    assert email.attachments[0].filename == "statement.pdf"
    assert email.attachments[0].size == 25 * 1024 * 1024


def test_deep_nesting_is_cut_with_a_warning():
    """1,000 nested multiparts are read to the container bound and flagged."""
    email = parse(torture.deep_nesting())
    assert "too-many-parts" in email.warnings


def test_shallow_nesting_is_read_whole():
    """Nesting under the bound is read down to its text."""
    email = parse(torture.deep_nesting(levels=20))
    assert email.new_text == "hello from the bottom"
    assert "too-many-parts" not in email.warnings


def test_many_headers_are_cut_with_a_warning():
    """10,000 headers: those past the bound are ignored and flagged; the body is still read."""
    email = parse(torture.many_headers())
    assert "too-many-headers" in email.warnings


def test_header_injection_stays_inside_the_value():
    """Encoded CR/LF in a header never creates a header; it stays text of that value."""
    email = parse(torture.header_injection())
    assert email.from_address == "eve@example.com"
    assert "X-Injected" in email.subject
    assert email.new_text == "hello"


def test_invalid_base64_is_flagged():
    """A body with invalid base64 decodes what it can and says the MIME is broken."""
    assert "mime-defect" in parse(torture.invalid_base64()).warnings


def test_single_line_body_is_bounded():
    """A 1 MB line is kept up to the text bound and flagged past it."""
    email = parse(torture.single_line_body(), ParseLimits(max_text_chars=100_000))
    assert len(email.new_text) <= 100_000
    assert "text-truncated" in email.warnings


def test_message_over_the_byte_limit_is_refused():
    """Only a message over the byte limit raises, with an error naming the sizes."""
    with pytest.raises(MessageTooLarge, match="over the limit"):
        parse(torture.big_attachment(megabytes=2), ParseLimits(max_message_bytes=1024 * 1024))
