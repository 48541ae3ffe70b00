"""Quoted history: header blocks pasted whole or cut short."""

from __future__ import annotations

from triage.mail.quotes import split_quotes


def test_a_header_cut_to_from_and_date_starts_the_history():
    """Mail programs and clients sometimes keep only From and Sent/Date above the quoted reply."""
    en = split_quotes("Thanks, the MT103 is attached.\n\nPieter\n\nFrom: Client Services\nSent: 6 November 2026\n\n"
                      "Dear Mr. van Dijk, account U4829173 ...")
    ru = split_quotes("Документы отправила.\n\nОт: Служба поддержки\nДата: 19.11.2026\n\nПо обращению 11944087 ...")
    assert "U4829173" in en.quoted and "U4829173" not in en.own
    assert ru.own == "Документы отправила." and "11944087" in ru.quoted


def test_a_from_line_in_the_client_s_own_words_is_not_a_header():
    text = "From: my bank I got nothing yet.\nThe wire left on Monday, reference 55120934."
    assert split_quotes(text).own == text
