"""Blank spaCy pipelines (en, ru, es; others use the English rules) with our matcher component.

No downloaded model exists here, nor is one needed: identifiers are lexical, and the
words around a number decide what it is.  The tokenizer learns to split ``ref:123``,
``#123`` and ``orderId=123``; the ``triage_identifiers`` component runs Matcher
patterns built from ``patterns.json`` and leaves candidate spans, labelled with the
pattern that found them, in ``doc.spans["identifiers"]``.  Token shapes and lengths
select candidates cheaply; ``identifiers.py`` checks each against its exact format.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex

PATTERNS = json.loads((Path(__file__).with_name("patterns.json")).read_text(encoding="utf-8"))
LANGUAGES = ("en", "ru", "es")
EXTRA_PREFIXES = [r"#", r"№", r"nº"]
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
EXTRA_INFIXES = [r"(?<=[A-Za-zА-Яа-я]):(?=\d)", r"(?<=[A-Za-z])=(?=\d)", r"(?<=[#№])(?=\d)",
                 rf"(?<=[{CJK}])(?=[A-Za-z0-9])", rf"(?<=[A-Za-z0-9])(?=[{CJK}])",
                 rf"(?<=[{CJK}])(?=[{CJK}])"]


def matcher_patterns() -> dict[str, list[list[dict]]]:
    """Patterns by name; the name says which kind and which rule found the identifier."""
    # Native token attributes, not REGEX: the matcher runs every pattern on every token.
    number = {"IS_DIGIT": True, "LENGTH": {">=": 6, "<=": 12}}
    reference = {"IS_DIGIT": True, "LENGTH": {">=": 6, "<=": 20}}
    filler = {"IS_DIGIT": False, "IS_SPACE": False, "LENGTH": {"<=": 15},
              "ORTH": {"NOT_IN": PATTERNS["sentence_ends"]}, "OP": "{0,5}"}
    abbreviation = [{"LOWER": {"IN": PATTERNS["abbreviated_number_words"]}}, {"TEXT": "."}]
    order = {"LOWER": {"IN": PATTERNS["order_words"]}}
    needs_id = {"LOWER": {"IN": PATTERNS["transaction_needs_id_word"]}}
    id_word = {"LOWER": {"IN": PATTERNS["id_words"]}}
    return {
        "account:token": [[{"SHAPE": {"IN": PATTERNS["account_shapes"]}}]],
        "account:split": [[{"ORTH": {"IN": PATTERNS["account_prefixes"]}}, {"ORTH": {"IN": ["-", "#"]}, "OP": "?"},
                           {"IS_DIGIT": True, "LENGTH": {">=": 6, "<=": 8}}]],
        "execution:token": [[{"LENGTH": 23, "IS_ALPHA": False, "LIKE_NUM": False}]],
        "order:context": [[order, filler, number], [order, filler, *abbreviation, filler, number]],
        "transaction:context": [[{"LOWER": {"IN": sorted(set(PATTERNS["transaction_words"])
                                                         - set(PATTERNS["transaction_needs_id_word"]))}},
                                 filler, reference]],
        "transaction:id-word": [[needs_id, filler, id_word, filler, reference],
                                [needs_id, filler, *abbreviation, filler, reference],
                                [id_word, filler, needs_id, filler, reference]],
    }


@Language.factory("triage_identifiers")
def make_identifier_matcher(nlp: Language, name: str) -> IdentifierMatcher:
    return IdentifierMatcher(nlp)


class IdentifierMatcher:
    """Pipeline component: every pattern match becomes a span labelled ``kind:rule``."""

    def __init__(self, nlp: Language):
        self.matcher = Matcher(nlp.vocab)
        for name, patterns in matcher_patterns().items():
            self.matcher.add(name, patterns)

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)]
        doc.spans["identifiers"] = spans
        return doc


@lru_cache(maxsize=None)
def pipeline(language: str) -> Language:
    """The blank pipeline for ``language`` (English rules for languages without their own)."""
    nlp = spacy.blank(language if language in LANGUAGES else "en")
    nlp.tokenizer.prefix_search = compile_prefix_regex(EXTRA_PREFIXES + list(nlp.Defaults.prefixes)).search
    nlp.tokenizer.infix_finditer = compile_infix_regex(EXTRA_INFIXES + list(nlp.Defaults.infixes)).finditer
    nlp.add_pipe("triage_identifiers")
    return nlp
