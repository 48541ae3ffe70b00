"""The text a model reads: normalized subject plus the client's new text, numbers masked.

Identifiers and amounts are masked to their kind: the model should learn that an
account number is present, not which one.  The same function serves training,
evaluation and production.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_CHARS = 4000
MASKS = (
    (re.compile(r"\b[0-9a-f]{8}\.[0-9a-f]{8}\.\d{2}\.\d{2}\b", re.IGNORECASE), " _exec_ "),
    (re.compile(r"\b(?:d?u|d?f|у)[ -]?\d{6,8}\b", re.IGNORECASE), " _account_ "),
    (re.compile(r"\S+@\S+\.\w+"), " _email_ "),
    (re.compile(r"https?://\S+|www\.\S+"), " _url_ "),
    (re.compile(r"\d{6,}"), " _longnum_ "),
    (re.compile(r"\d+(?:[.,]\d+)*"), " _num_ "),
)


def model_text(subject: str, new_text: str) -> str:
    """Lower-cased subject and new text with identifiers, numbers, links and addresses masked."""
    text = f"{subject}\n{new_text}"[:MAX_CHARS].lower()
    for pattern, mask in MASKS:
        text = pattern.sub(mask, text)
    return text


GRAM_SIZES = (3, 4)


def char_grams(text: str) -> list[str]:
    """Character 3- and 4-grams inside each word, padded with spaces (scikit-learn's char_wb).

    They carry Russian and Spanish morphology and typos without a lemmatizer.
    """
    grams: list[str] = []
    for word in text.split():
        grams.extend(word_grams(word))
    return grams


@lru_cache(maxsize=262_144)
def word_grams(word: str) -> tuple[str, ...]:
    """The n-grams of one word, space-padded at both ends."""
    padded = f" {word} "
    return tuple(padded[i:i + size] for size in GRAM_SIZES for i in range(len(padded) - size + 1))
