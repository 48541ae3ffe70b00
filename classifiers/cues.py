"""Urgency cues: a few dense features that say what is at risk and how soon.

Urgency is judged by what is at risk (TAXONOMY.md), and a handful of phrases carry most
of it in every language: "right now", "сегодня", "hoy"; "liquidating", "взлом", "no fui
yo"; "can't close"; and the calm ones, "just curious", "не срочно", "sin prisa".  Bag-of-
words features see these words, but diluted among thousands; a direct count per cue
family, plus punctuation and length, lifts urgency macro-F1 by about two points on the
corpus (see the model card).  Patterns are data; the transformer is stateless.
"""

from __future__ import annotations

import math
import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

CUE_PATTERNS = {
    "time_pressure": (
        r"\b(?:right now|now|immediately|asap|urgent\w*|today|tonight|this morning|before (?:the )?(?:close|open)"
        r"|deadline|сейчас|срочно|немедленно|сегодня|до закрытия|до конца дня|hoy|ahora|ya mismo|urgente"
        r"|antes del cierre|heute|sofort|aujourd'hui|oggi|hoje|segodnya|srochno|seychas|sejchas)\b"
    ),
    "money_at_risk": (
        r"(?:liquidat|hack|unauthori[sz]|fraud|stolen|not me\b|wasn't me|someone (?:logged|changed|accessed)"
        r"|ликвидир|ликвидац|взлом|не я\b|мошен|украл|liquidan|liquidaci|hacke|no fui yo|robo|fraude"
        r"|vzlom|likvid)"
    ),
    "cannot_act": (
        r"(?:can't|cannot|can not|unable to|не могу|не получается|no puedo|no me deja|ne mogu)\s+(?:\w+\s+)?"
        r"(?:close|sell|exit|log|закрыть|продать|выйти|войти|cerrar|vender|salir|entrar|zakryt|prodat|vojti)"
    ),
    "not_me": (
        r"(?:\bi did not\b|\bi didn't\b|\bi never\b|\bnot me\b|я не (?:менял|делал|заказывал|давал|подавал|входил)"
        r"|ничего не (?:менял|делал|добавлял)|\bno (?:he|hice|autoric\w*)\b|\byo no\b|ya ne (?:menyal|delal)"
        r"|ni4ego ne|nichego ne|ich habe nicht|je n'ai pas)"
    ),
    "stop_it": (
        r"(?:\b(?:stop|block|freeze|lock|halt)\b|останов|прекратите|заблокир|bloque|\bdet[eé]n|\bparen\b"
        r"|blokir|ostanov|prekratite)"
    ),
    "forced_selling": (
        r"(?:selling my|sold my \w+ (?:\w+ )?without|closing (?:out )?my positions|liquidating"
        r"|продаете|продают мои|закрывают мои|закрыли мои|vendiendo mis|cerrando mis|vendieron mis"
        r"|prodaete|prodayut|zakryvayut)"
    ),
    "calm": (
        r"(?:just curious|no rush|when you (?:have|get) (?:a )?(?:time|chance)|for (?:my )?information"
        r"|not urgent|просто интересно|не срочно|для информации|sin prisa|por curiosidad|no es urgente"
        r"|cuando puedan|prosto interesno|ne srochno)"
    ),
    "thanks_only": r"^\W*(?:thank|thanks|спасибо|gracias|merci|danke|grazie|obrigad|spasibo)",
}
COMPILED = {name: re.compile(pattern, re.IGNORECASE | re.MULTILINE) for name, pattern in CUE_PATTERNS.items()}
CAP = 3


class UrgencyCues(BaseEstimator, TransformerMixin):
    """Counts of each cue family (capped), '!' and '?' counts, length, and a one-liner flag, in [0, 1]."""

    def fit(self, texts, y=None):
        return self

    def transform(self, texts) -> sparse.csr_matrix:
        return sparse.csr_matrix(np.array([self._row(text) for text in texts], dtype=float))

    def get_feature_names_out(self, input_features=None):
        return np.array([*COMPILED, "exclamations", "questions", "length", "one_liner"], dtype=object)

    @staticmethod
    def _row(text: str) -> list[float]:
        words = len(text.split())
        row = [min(len(pattern.findall(text)), CAP) / CAP for pattern in COMPILED.values()]
        return row + [min(text.count("!"), 5) / 5, min(text.count("?"), 5) / 5,
                      min(math.log1p(words) / 6, 1.0), float(words < 15)]
