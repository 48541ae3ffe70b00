"""The text a model reads: normalized subject plus the client's new text, numbers masked.

Identifiers and amounts are masked to their kind: the model should learn that an
account number is present, not which one.  The same function serves training,
evaluation and production.
"""

from __future__ import annotations

import re

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


WORD = re.compile(r"(?u)\b\w+\b")
STEM_LENGTH = 5
ENDING_LENGTH = 3


def stem_tokens(text: str) -> list[str]:
    """Words cut to a stem and an ending: cheap morphology for Russian and Spanish.

    "вывести", "вывод", "выводом" share the stem token "вывес~"/"вывод~" and endings
    "~ти"/"~дом"; the tokenizer is many times faster than character n-grams at the same
    accuracy on the corpus (see the model card's comparison).
    """
    tokens = []
    for word in WORD.findall(text):
        if len(word) > STEM_LENGTH:
            tokens.append(word[:STEM_LENGTH] + "~")
            tokens.append("~" + word[-ENDING_LENGTH:])
        else:
            tokens.append(word)
    return tokens
