"""Blank spaCy pipelines (en, ru, es; others use the English rules) with our matcher component.

No downloaded model exists here, nor is one needed: identifiers are lexical, and the
words around a number decide what it is.  The tokenizer learns to split ``ref:123``,
``#123`` and ``orderId=123``; the ``triage_identifiers`` component runs Matcher
patterns built from ``patterns.json`` and leaves candidate spans, labelled with the
pattern that found them, in ``doc.spans["identifiers"]``; ``identifiers.py`` settles
conflicts between them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab
from spacy.util import compile_infix_regex, compile_prefix_regex

PATTERNS = json.loads((Path(__file__).with_name("patterns.json")).read_text(encoding="utf-8"))
LANGUAGES = ("en", "ru", "es")
MAX_FILLER = 6
FILLED = frozenset({"order:context", "transaction:context", "transaction:id-word"})
ID_WORDS = frozenset(PATTERNS["id_words"])
NEEDS_ID_WORDS = frozenset(PATTERNS["transaction_needs_id_word"])
EXECUTION_ID = re.compile(PATTERNS["execution_token"], re.IGNORECASE)
EXTRA_PREFIXES = [r"#", r"№", r"nº"]
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
EXTRA_INFIXES = [r"(?<=[A-Za-zА-Яа-я]):(?=\d)", r"(?<=[A-Za-zА-Яа-я]{2})\.(?=\d)", r"(?<=[A-Za-z])=(?=\d)", r"(?<=[#№])(?=\d)",
                 rf"(?<=[{CJK}])(?=[A-Za-z0-9])", rf"(?<=[A-Za-z0-9])(?=[{CJK}])",
                 rf"(?<=[{CJK}])(?=[{CJK}])"]


def matcher_patterns(vocab: Vocab) -> dict[str, list[list[dict]]]:
    """Patterns by name; the name says which kind and which rule found the identifier.

    Every token test is a lexeme flag, computed once per distinct word in the vocabulary:
    the matcher then compares bits, where set and length predicates would call back
    into Python for every token of every email (five times slower).
    """
    def flag(test) -> int:
        return vocab.add_flag(test)

    def word_in(name: str) -> int:
        words = frozenset(PATTERNS[name])
        return flag(lambda text: text.lower() in words)

    account_token = re.compile(PATTERNS["account_token"])
    execution_token = re.compile(PATTERNS["execution_token"])
    sentence_ends = frozenset(PATTERNS["sentence_ends"])
    number = {flag(lambda text: text.isdigit() and 6 <= len(text) <= 12): True}
    reference = {flag(lambda text: text.isdigit() and 6 <= len(text) <= 20): True}
    account_digits = {flag(lambda text: text.isdigit() and 6 <= len(text) <= 8): True}
    # Words between a context word and its number: short numbers too ("order of 100 AAPL
    # @ 190 (4410982231)"), never a long one, a line break or the end of a sentence.  "*"
    # rather than "{0,6}": spaCy unrolls "{0,6}" into six optional tokens whose paths it
    # follows one by one (64 per start, squared for two fillers); the bound of
    # ``MAX_FILLER`` words is checked on the matches instead (``within_reach``).
    filler = {flag(lambda text: not (text.isdigit() and len(text) >= 6) and not text.isspace()
                   and len(text) <= 15 and text not in sentence_ends): True, "OP": "*"}
    order = {word_in("order_words"): True}
    needs_id = {word_in("transaction_needs_id_word"): True}
    id_word = {word_in("id_words"): True}
    trade = {word_in("trade_words"): True}
    bracket = {flag(lambda text: text in ("(", "[", ",", ":", "-", "—") or (text.isspace() and "\n" not in text)):
               True, "OP": "{0,2}"}
    plain_transaction = frozenset(PATTERNS["transaction_words"]) - frozenset(PATTERNS["transaction_needs_id_word"])
    transaction = {flag(lambda text: text.lower() in plain_transaction): True}
    movement = {word_in("movement_words"): True}
    movement_tail = {word_in("movement_tail_words"): True, "OP": "?"}  # "deposit confirmation 47991052"
    prefixes = frozenset(PATTERNS["account_prefixes"])
    return {
        "account:token": [[{flag(lambda text: bool(account_token.match(text))): True}]],
        "account:split": [[{flag(lambda text: text in prefixes): True}, {flag(lambda text: text in ("-", "#")): True, "OP": "?"},
                           account_digits]],
        "execution:token": [[{flag(lambda text: bool(execution_token.match(text.lower()))): True}]],
        "order:context": [[order, filler, number]],
        "order:trade-id": [[trade, bracket, id_word, number]],
        # A pasted order line: "4410092218 buy 50 ARM lmt 128", "1781124455  BOT 200 PLTR".
        "order:number-then-trade": [[number, bracket, trade]],
        # "...the order was rejected. Number: 1870045512": the kind comes from further back.
        # The number may stand on the next line ("Withdrawal ID\n558214670").
        "pending:id-word": [[id_word, {flag(lambda text: text in (":", "is", "es", "-", "—", "был", "—")): True,
                                       "OP": "?"}, {flag(lambda text: text.isspace() and text.count("\n") == 1): True,
                                                    "OP": "?"}, reference]],
        "transaction:context": [[transaction, filler, reference]],
        # "withdrawal 902277415 of $4,200", "вывод 4412318807 прошёл", "el depósito es 687120345".
        "transaction:movement-number": [[movement, movement_tail, {flag(lambda text: text in (
            ":", "is", "was", "es", "fue", ",", "-", "—", "(", "был", "была")): True, "OP": "?"}, number]],
        "transaction:id-word": [[needs_id, filler, id_word, filler, reference],
                                [id_word, filler, needs_id, filler, reference]],
    }


@Language.factory("triage_identifiers")
def make_identifier_matcher(nlp: Language, name: str) -> IdentifierMatcher:
    return IdentifierMatcher(nlp)


class IdentifierMatcher:
    """Pipeline component: every pattern match becomes a span labelled ``kind:rule``."""

    def __init__(self, nlp: Language):
        self.matcher = Matcher(nlp.vocab, validate=False)  # flag ids are not in the schema
        for name, patterns in matcher_patterns(nlp.vocab).items():
            self.matcher.add(name, patterns)

    def __call__(self, doc: Doc) -> Doc:
        strings = doc.vocab.strings
        doc.spans["identifiers"] = [Span(doc, start, end, label=key) for key, start, end in self.matcher(doc)
                                    if within_reach(doc, strings[key], start, end)]
        return doc


def within_reach(doc: Doc, label: str, start: int, end: int) -> bool:
    """At most ``MAX_FILLER`` words between a context word and its number (or id word)."""
    if label not in FILLED:
        return True
    if label != "transaction:id-word":
        return end - start - 2 <= MAX_FILLER
    # needs_id ... id_word ... reference, or id_word ... needs_id ... reference: some middle
    # word of the other kind has at most MAX_FILLER words on either side.
    first = doc[start].lower_
    partners = ((ID_WORDS if first in NEEDS_ID_WORDS else frozenset())
                | (NEEDS_ID_WORDS if first in ID_WORDS else frozenset()))
    middles = range(max(start + 1, end - 2 - MAX_FILLER), min(end - 1, start + 2 + MAX_FILLER))
    return any(doc[middle].lower_ in partners for middle in middles)


@lru_cache(maxsize=None)
def pipeline(language: str) -> Language:
    """The blank pipeline for ``language`` (English rules for languages without their own)."""
    nlp = spacy.blank(language if language in LANGUAGES else "en")
    nlp.tokenizer.prefix_search = compile_prefix_regex(EXTRA_PREFIXES + list(nlp.Defaults.prefixes)).search
    nlp.tokenizer.infix_finditer = compile_infix_regex(EXTRA_INFIXES + list(nlp.Defaults.infixes)).finditer
    # No tokenizer exceptions: they split contractions and keep "a.m." whole, which no
    # pattern reads, and English read "id" as "I'd" and split it in two.  Without them
    # spaCy skips its special-case pass over every doc: tokenizing is three times faster.
    nlp.tokenizer.rules = {}
    # An execution id is one word, though its dots would otherwise split it ("690c12ab.01").
    nlp.tokenizer.token_match = EXECUTION_ID.match
    nlp.add_pipe("triage_identifiers")
    return nlp
