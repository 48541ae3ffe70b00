"""Russian typed in Latin letters: a small character n-gram model of our own.

Language detectors call translit Russian Slovenian, Czech, Polish or English.  Its
letter sequences (zh, kh, shch, -yj, -ogo, soft signs as apostrophes) are distinctive,
so a linear model over character n-grams, trained on the corpus's Latin-script mail,
tells it from English, Spanish and the other Latin-script languages.
"""

from __future__ import annotations

import re

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifiers.vectorize import CharGramTfidf


CYRILLIC = re.compile(r"[\u0400-\u04ff]")
NUMBERS = re.compile(r"\d+")


def translit_text(text: str) -> str:
    """The text the translit model reads: lower case, digits dropped (4 for ч stays as a letter)."""
    return NUMBERS.sub(lambda m: m.group(0) if m.group(0) in {"4", "6"} else " ", text.lower())


def build_translit_model() -> Pipeline:
    """An untrained pipeline: character 3-4-grams within words, balanced logistic regression."""
    return Pipeline([
        ("chars", CharGramTfidf(min_df=2)),
        ("model", LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)),
    ])
