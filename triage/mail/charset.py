"""Bytes to text the way real mail needs it: trust the declared charset when it decodes.

Mail programs send bogus charset names (``DEFAULT``, ``unknown-8bit``), narrow ones
(``gb2312`` for GBK text, ``iso-8859-1`` for windows-1252 quotes) and wrong ones.
The declared charset is tried first, widened to its common superset; a single-byte
charset that "decodes" the bytes into mojibake is not believed.  Then UTF-8 and the
charsets real mail uses are tried and the most plausible text wins: statistical
detection alone mis-decodes short bodies.  charset-normalizer is the last resort.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Names real mail carries that mean "we do not know".
UNKNOWN_NAMES = frozenset(
    {"default", "default_charset", "unknown-8bit", "x-unknown", "unknown", "x-user-defined",
     "none", "charset", "8bit", "binary"}
)
# Declared names mapped to the superset mail programs actually mean.
SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "chinesebig5": "big5hkscs", "big5": "big5hkscs",
    "iso-8859-1": "windows-1252", "latin1": "windows-1252", "latin-1": "windows-1252",
    "us-ascii": "windows-1252", "ascii": "windows-1252", "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8", "tis-620": "cp874", "utf8": "utf-8",
}
# ASCII-only encodings whose escapes must be decoded (RFC 1468 ISO-2022-JP is common in Japanese mail).
SEVEN_BIT_STATEFUL = frozenset({"iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_ext",
                                "iso2022_kr", "utf-7", "hz"})
# Codecs that decode almost any bytes, so that "it decoded" proves nothing.
SINGLE_BYTE = frozenset(
    {"cp1252", "cp1251", "cp1250", "koi8-r", "koi8-u", "iso8859-1", "iso8859-2", "iso8859-5",
     "iso8859-15", "mac-roman", "mac-cyrillic", "cp866"}
)
# Tried in this order when the declared charset fails; ties go to the earlier one.
CANDIDATES = ("windows-1251", "koi8-r", "windows-1252", "cp932", "gb18030", "big5hkscs", "cp949")
WORD = re.compile(r"[^\W\d_]+")
LATIN_RUN = re.compile("[\u00c0-\u00ff]{3}")
EAST_ASIAN = re.compile("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")
TYPED_MARK = re.compile("[\u00a0\u00a1\u00ab\u00b0\u00b7\u00bb\u00bf\u00a9\u00ae\u00d7\u2010-\u2026"
                        "\u20ac\u2116\u2122\u3000-\u303f\uff01-\uff60\u00aa\u00ba\u00b2\u00b3]")


@dataclass(frozen=True)
class Decoded:
    """Text and whether it had to be guessed rather than taken from the declared charset."""

    text: str
    guessed: bool


def codec_name(declared: str | None) -> str | None:
    """The Python codec for a declared charset name, or None when it is bogus or unknown."""
    if not declared:
        return None
    name = declared.strip().strip("\"'").lower()
    if name in UNKNOWN_NAMES:
        return None
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL inside the name
        return None


def decode_bytes(data: bytes, declared: str | None) -> Decoded:
    """Decode ``data``; ``guessed`` is True when the declared charset could not be used."""
    codec = codec_name(declared)
    if data.isascii():
        if codec in SEVEN_BIT_STATEFUL or b"\x1b$" in data:
            return Decoded(data.decode(codec or "iso2022_jp", errors="replace"), codec is None)
        return Decoded(data.decode("ascii"), False)
    if codec:
        text = _strict(data, codec)
        if text is not None and not _implausible(text, codec):
            return Decoded(text, False)
    return Decoded(_guess(data), True)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _implausible(text: str, codec: str) -> bool:
    """True when a single-byte charset decoded the bytes into what no one types."""
    if codecs.lookup(codec).name not in SINGLE_BYTE:
        return False
    return _plausibility(text) < 0.8


def _guess(data: bytes) -> str:
    """The most plausible decoding among the charsets real mail uses, else the detector's."""
    utf8 = _strict(data, "utf-8")
    if utf8 is not None:
        return utf8
    best_text, best_score = None, 0.0
    for codec in CANDIDATES:
        text = _strict(data, codec)
        score = _plausibility(text) if text is not None else 0.0
        if score > best_score:
            best_text, best_score = text, score
    if best_text is not None and best_score >= 0.9:
        return best_text
    detected = from_bytes(data[:65536]).best()
    if detected is not None:
        return data.decode(detected.encoding, errors="replace")
    return best_text or data.decode("windows-1252", errors="replace")


def _plausibility(text: str) -> float:
    """Share of non-ASCII words and marks that look typed by a person in one script.

    Wrong single-byte decodings give words mixing scripts or cases ("рТЙЧЕФ" is KOI8-R
    read as windows-1251), runs of Latin-1 letters ("Ïðèâåò" is windows-1251 read as
    Latin-1) or box-drawing signs; wrong multi-byte ones give half-width katakana.
    """
    sample = text[:20000]
    words = [word for word in WORD.findall(sample) if not word.isascii()]
    marks = [char for char in WORD.sub("", sample) if ord(char) > 0x7F]
    if not words and not marks:
        return 1.0
    score = sum(_word_score(word) for word in words) + sum(1 for m in marks if TYPED_MARK.match(m))
    return score / (len(words) + len(marks))


def _word_score(word: str) -> float:
    """1 for a word as people type it, 0.5 for all capitals (rarer in real text), else 0."""
    if HALF_WIDTH_KANA.search(word):
        return 0.0
    if EAST_ASIAN.search(word):
        return 1.0
    scripts = {"latin" if ord(char) < 0x250 else "cyrillic" if 0x400 <= ord(char) < 0x530 else char
               for char in word}
    if len(scripts) > 1 or LATIN_RUN.search(word):
        return 0.0
    if word.islower() or word.istitle():
        return 1.0
    return 0.5 if word.isupper() else 0.0
