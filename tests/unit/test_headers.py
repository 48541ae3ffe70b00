"""Header decoding and subject normalisation, including the malformed forms real mail carries."""

from __future__ import annotations

import pytest

from triage.mail.headers import addresses, header_text, is_forward_subject, normalize_subject

ENCODED = [
    ("=?utf-8?B?0J/QvtC/0L7Qu9C90LXQvdC40LUg0YHRh9C10YLQsA==?=", "Пополнение счета"),
    ("=?utf-8?B?0J/QvtC/0L7Qu9C9?=\r\n =?utf-8?B?0LXQvdC40LU=?=", "Пополнение"),
    # A character split across two encoded words is joined as bytes before decoding.
    ("=?utf-8?B?0J/Q?= =?utf-8?B?vg==?=", "По"),
    ("=?windows-1251?Q?=CF=EE=EF=EE=EB=ED=E5=ED=E8=E5?=", "Пополнение"),
    ("=?koi8-r?B?8M/Q?=", "Поп"),
    ("=?iso-8859-1?Q?Dep=F3sito_no_recibido?=", "Depósito no recibido"),
    ("Re: =?utf-8?q?Dep=C3=B3sito?= pendiente", "Re: Depósito pendiente"),
    # Malformed: no closing ?=, glued to text, bogus charset label.
    ("=?utf-8?q?Dep=C3=B3sito", "Depósito"),
    ("Orden=?utf-8?q?_rechazada?=", "Orden rechazada"),
    ("=?unknown-8bit?q?Se=F1or?=", "Señor"),
    ("Plain subject", "Plain subject"),
]


@pytest.mark.parametrize(("raw", "decoded"), ENCODED)
def test_encoded_words_decode(raw, decoded):
    """RFC 2047 words, well-formed or not, decode to what a reader wants."""
    assert header_text(raw) == decoded


def test_raw_utf8_in_a_header_is_decoded():
    """Unencoded 8-bit UTF-8 in a header (as the parser hands it over) reads as UTF-8."""
    raw = "Вывод средств".encode("utf-8").decode("ascii", "surrogateescape")
    assert header_text(raw) == "Вывод средств"


PREFIXES = [
    ("RE: Re: FW: Margin call", "Margin call", False),
    ("Re[2]: Withdrawal", "Withdrawal", False),
    ("Ответ: Re: Вывод средств", "Вывод средств", False),
    ("Отв: Пополнение", "Пополнение", False),
    ("Пересл: Отчет брокера", "Отчет брокера", True),
    ("RV: RE: Orden rechazada", "Orden rechazada", True),
    ("AW: WG: Konto", "Konto", False),
    ("Fwd: Fw: statement", "statement", True),
    ("Re: Re: Re: Re: x", "x", False),
    ("Reconciliation of my account", "Reconciliation of my account", False),
]


@pytest.mark.parametrize(("subject", "normalized", "forward"), PREFIXES)
def test_subject_prefixes_are_stripped(subject, normalized, forward):
    """Every run of reply and forward prefixes goes; the first one tells a forward."""
    assert normalize_subject(subject) == normalized
    assert is_forward_subject(subject) is forward


def test_encoded_display_names_and_addresses():
    """Encoded display names decode; addresses are lower-cased; a comma inside a name is no split."""
    pairs = addresses('"=?utf-8?B?0JjQstCw0L3QvtCyLCDQmNCy0LDQvQ==?=" <Ivan@Mail.RU>, desk@Example.com')
    assert pairs == [("Иванов, Иван", "ivan@mail.ru"), ("", "desk@example.com")]
