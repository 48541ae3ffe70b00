"""The IMAP poller's plain values: reconnect delays, mailbox URLs and lock keys."""

from __future__ import annotations

import pytest

from triage.imap_cursor import Mailbox
from triage.receive_imap import Backoff


@pytest.mark.parametrize(("failures", "delay"), [
    (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 32.0), (7, 60.0), (8, 60.0), (50, 60.0),
])
def test_reconnect_delay_doubles_up_to_a_minute(failures, delay):
    """The delay before a reconnect doubles with each failure in a row and stops at 60 s."""
    assert Backoff().delay(failures) == delay


def test_message_source_is_an_rfc5092_imap_url():
    """A stored message's source names account, folder, UIDVALIDITY and UID, percent-encoded."""
    mailbox = Mailbox.of("desk@broker.example", "imap.example", 993, "Клиенты/Входящие")
    assert mailbox.epoch(7) + ";UID=42" == (
        "imap://desk%40broker.example@imap.example:993/"
        "%D0%9A%D0%BB%D0%B8%D0%B5%D0%BD%D1%82%D1%8B/%D0%92%D1%85%D0%BE%D0%B4%D1%8F%D1%89%D0%B8%D0%B5"
        ";UIDVALIDITY=7/;UID=42")


def test_lock_key_is_stable_and_per_folder():
    """The advisory lock key is a signed 64-bit number, the same for the same folder, not for another."""
    inbox = Mailbox.of("desk", "imap.example", 993, "INBOX")
    assert inbox.lock_key() == Mailbox.of("desk", "imap.example", 993, "INBOX").lock_key()
    assert inbox.lock_key() != Mailbox.of("desk", "imap.example", 993, "Support").lock_key()
    assert -2**63 <= inbox.lock_key() < 2**63
