"""Urgency cues: a few dense features that say what is at risk and how soon.

Urgency is judged by what is at risk (TAXONOMY.md), and a handful of phrases carry most
of it in every language: "right now", "сегодня", "hoy"; "liquidating", "взлом", "no fui
yo"; "can't close"; and the calm ones, "just curious", "не срочно", "sin prisa".  Bag-of-
words features see these words, but diluted among thousands; a direct count per cue
family, plus punctuation and length, lifts urgency macro-F1 by about two points on the
corpus (see the model card).  The cue lists are data; matching is by word, prefix and
phrase over one pass of the words, so it costs little per email.
"""

from __future__ import annotations

import math
import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

# Per family: exact words, word prefixes, and phrases of two or three words.
CUES = {
    "time_pressure": {
        "words": "now immediately asap urgent urgently today tonight deadline сейчас срочно срочная срочный "
                 "немедленно сегодня hoy ahora urgente heute sofort aujourd'hui oggi hoje segodnya srochno "
                 "seychas sejchas",
        "prefixes": "urgen срочн",
        "phrases": "right now|this morning|before the close|before close|before the open|до закрытия|"
                   "до конца дня|прямо сейчас|ya mismo|antes del cierre|pryamo seychas",
    },
    "money_at_risk": {
        "words": "hacked hack fraud stolen scam мошенники мошенник украли взломали взлом robo fraude hackeo "
                 "estafa vzlom vzlomali",
        "prefixes": "liquidat ликвид liquida unauthori unauthoris hackea likvid",
        "phrases": "not me|wasn't me|someone logged|someone changed|someone accessed|не я|no fui yo|ne ya",
    },
    "cannot_act": {
        "words": "",
        "prefixes": "",
        "phrases": "can't close|cannot close|can't sell|cannot sell|unable to close|unable to sell|can't exit|"
                   "can't log|cannot log|не могу закрыть|не могу продать|не могу войти|не могу выйти|"
                   "не получается закрыть|no puedo cerrar|no puedo vender|no puedo entrar|no me deja|"
                   "ne mogu zakryt|ne mogu prodat|ne mogu vojti",
    },
    "not_me": {
        "words": "",
        "prefixes": "",
        "phrases": "i did not|i didn't|i never|я не менял|я не делал|я не заказывал|я не давал|я не входил|"
                   "ничего не менял|ничего не делал|no he|no hice|no autoricé|yo no|ya ne|ni4ego ne|nichego ne",
    },
    "stop_it": {
        "words": "stop block freeze lock halt остановите прекратите detengan paren ostanovite prekratite",
        "prefixes": "заблокир bloque blokir",
        "phrases": "",
    },
    "forced_selling": {
        "words": "liquidating продаете продают закрывают prodaete prodayut zakryvayut",
        "prefixes": "",
        "phrases": "selling my|closing my|closing out|sold my|vendiendo mis|cerrando mis|vendieron mis|"
                   "продали мои|закрыли мои",
    },
    "calm": {
        "words": "curious",
        "prefixes": "",
        "phrases": "no rush|not urgent|when you have time|when you get a chance|for my information|"
                   "просто интересно|не срочно|для информации|sin prisa|por curiosidad|no es urgente|"
                   "cuando puedan|prosto interesno|ne srochno",
    },
}
THANKS = ("thank", "thanks", "спасибо", "gracias", "merci", "danke", "grazie", "obrigad", "spasibo")
WORD = re.compile(r"[\w']+")
CAP = 3


def _index() -> tuple[dict[str, list[int]], tuple[str, ...], list[tuple[tuple[str, ...], int]], list[frozenset]]:
    """Word -> families, all prefixes, (prefixes, family) pairs and phrase sets, for one pass per email."""
    words: dict[str, list[int]] = {}
    prefixes, phrases = [], []
    for number, family in enumerate(CUES.values()):
        for word in family["words"].split():
            words.setdefault(word, []).append(number)
        if family["prefixes"]:
            prefixes.append((tuple(family["prefixes"].split()), number))
        phrases.append(frozenset(p.strip() for p in family["phrases"].split("|") if p.strip()))
    return words, tuple(p for group, _ in prefixes for p in group), prefixes, phrases


WORD_FAMILIES, ALL_PREFIXES, PREFIX_FAMILIES, PHRASES = _index()


class UrgencyCues(BaseEstimator, TransformerMixin):
    """Counts of each cue family (capped), '!' and '?' counts, length, one-liner and thanks flags."""

    def fit(self, texts, y=None):
        return self

    def transform(self, texts) -> sparse.csr_matrix:
        return sparse.csr_matrix(np.array([cue_row(text) for text in texts], dtype=float))

    def get_feature_names_out(self, input_features=None):
        return np.array([*CUES, "exclamations", "questions", "length", "one_liner", "thanks_first"],
                        dtype=object)


def cue_row(text: str) -> list[float]:
    """The cue features of one text, each in [0, 1]."""
    words = WORD.findall(text.lower())
    counts = [0] * len(CUES)
    for word in words:
        for family in WORD_FAMILIES.get(word, ()):
            counts[family] += 1
        if word.startswith(ALL_PREFIXES):
            for group, family in PREFIX_FAMILIES:
                if word.startswith(group):
                    counts[family] += 1
    grams = {f"{a} {b}" for a, b in zip(words, words[1:])}
    grams.update(f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:]))
    for family, phrases in enumerate(PHRASES):
        counts[family] += len(phrases & grams)
    thanks_first = float(bool(words) and words[0].startswith(THANKS))
    return [min(count, CAP) / CAP for count in counts] + [
        min(text.count("!"), 5) / 5, min(text.count("?"), 5) / 5,
        min(math.log1p(len(words)) / 6, 1.0), float(len(words) < 15), thanks_first]
