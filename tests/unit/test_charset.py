"""Charset decoding: the declared charset wins when it decodes plausibly, else the right one is found."""

from __future__ import annotations

import pytest

from triage.mail.charset import decode_bytes

RUSSIAN = "Добрый день, не могу вывести деньги со счета"
SPANISH = "Hola, ¿cuándo llegará mi depósito? Gracias, señor"
CHINESE = "你好，我的账户无法登录，请帮忙"

CASES = [
    # (text, encoding used, declared charset, guessed)
    (RUSSIAN, "windows-1251", "windows-1251", False),
    (RUSSIAN, "koi8-r", "koi8-r", False),
    (RUSSIAN, "utf-8", "utf-8", False),
    (SPANISH, "iso-8859-1", "iso-8859-1", False),
    (SPANISH, "iso-8859-15", "iso-8859-15", False),
    ("“Quoted” – 100 €", "windows-1252", "iso-8859-1", False),
    (CHINESE, "gbk", "gb2312", False),
    ("你好，我的帳戶無法登錄", "big5", "CHINESEBIG5", False),
    ("口座にログインできません", "shift_jis", "shift_jis", False),
    (RUSSIAN, "windows-1251", "DEFAULT", True),
    (RUSSIAN, "koi8-r", "DEFAULT_CHARSET", True),
    (RUSSIAN, "windows-1251", "unknown-8bit", True),
    (RUSSIAN, "koi8-r", "x-unknown", True),
    (RUSSIAN, "windows-1251", None, True),
    (RUSSIAN, "windows-1251", "iso-8859-1", True),
    (RUSSIAN, "utf-8", "windows-1251", True),
    (SPANISH, "iso-8859-1", "utf-8", True),
    (SPANISH, "iso-8859-1", None, True),
    (SPANISH, "utf-8", "iso-8859-1", True),
    ("Año", "iso-8859-1", "utf-8", True),
    (CHINESE, "gbk", None, True),
    ("口座にログインできません", "shift_jis", "unknown-8bit", True),
]


@pytest.mark.parametrize(("text", "encoding", "declared", "guessed"), CASES)
def test_decoding_recovers_the_text(text, encoding, declared, guessed):
    """Text encoded one way and declared (rightly, bogusly or wrongly) another decodes back to itself."""
    decoded = decode_bytes(text.encode(encoding), declared)
    assert decoded.text == text
    assert decoded.guessed is guessed


def test_ascii_is_never_guessed():
    """Plain ASCII needs no charset at all."""
    assert decode_bytes(b"order 123456 rejected", "no-such-charset") == decode_bytes(b"order 123456 rejected", None)
    assert decode_bytes(b"order", None).guessed is False


def test_undecodable_bytes_still_give_text():
    """Bytes that fit no charset give replacement characters rather than an error."""
    assert isinstance(decode_bytes(bytes(range(128, 256)) * 3, "utf-8").text, str)


def test_declared_name_with_a_nul_is_treated_as_unknown():
    """A charset label with a NUL byte (seen by the property tests) is bogus, not an error."""
    assert decode_bytes("Müller".encode("latin-1"), "\x00iso-8859-1").text == "Müller"
