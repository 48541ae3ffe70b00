"""The text the matcher reads: the stretches around possible identifiers, pasted data unglued.

Only the words near six-digit runs (and execution ids) are worth tokenizing, and values
pasted from JSON, CSV, logs and lists must be words of their own before spaCy sees them.
"""

from __future__ import annotations

import re

from triage.extract.pipeline import PATTERNS


def _after_any(words, mark: str) -> str:
    """A regex alternation that holds right after one of ``words`` (as written, Capitalized or
    UPPER) followed by ``mark``: lookbehinds, so the pattern can start with ``mark`` itself."""
    return "|".join(f"(?<=\\b{re.escape(form + mark)})" for word in words
                    for form in sorted({word, word.capitalize(), word.upper()}))


# "No. 123", "ord. no 123": the dot of an abbreviation before a number is not a sentence end.
# The dot comes first, so the engine scans for dots rather than trying every word.
ABBREVIATION_DOT = re.compile(r"\.(?:%s)(\s*)(?=\d|[Nn][or]\b|#)"
                              % _after_any(PATTERNS["abbreviated_number_words"], "."))
# "Order Id-6622019045", "ref-55190273": the hyphen of an id word before its number is not
# the hyphen of a lettered reference ("UBS-20250603"), which is never ours.
ID_HYPHEN = re.compile(r"-(?:%s)(?=\d)" % _after_any(("id", "no", "nr", "nro", "ref", "num"), "-"))
EXECUTION = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}\.[0-9a-fA-F]{8}\.\d\d\.\d\d(?!\d)")
EXECUTION_TAIL = re.compile(r"\.[0-9a-fA-F]{8}\.\d\d\.\d\d")  # starts with a dot: a quick first look
# Punctuation that glues pasted data together: "orderId":123,"permId":456, 123/456, a;b.
# Commas and colons between two digits stay (1,500.00, 71,25 and 10:02:15), unless four
# digits or more follow a comma, as in a CSV row (U8830215,20251106).  The separator comes
# first in the pattern, one character class, so the engine scans for it rather than trying
# each alternative at every position (four times faster).
GLUE = re.compile(r"[;|/,:](?:(?<=[;|/])(?<=\S.)(?=\S)|(?<=[^\d\s][,:])(?=\S)|(?<=\S[,:])(?=[^\d\s])"
                  r"|(?<=\d,)(?=\d\d\d\d))")
# Where an identifier can be: six digits or more in a row, or the start of an execution id
# (looked for only when the text has an execution id's tail: the alternative is tried at
# every position and triples the cost).
CANDIDATE = re.compile(r"\d\d\d\d\d\d+")  # not \d{6,}: the engine runs the unrolled form faster
CANDIDATE_OR_EXECUTION = re.compile(r"\d\d\d\d\d\d+|[0-9a-fA-F]{8}\.[0-9a-fA-F]{8}\.")
# Every pattern reads at most a dozen tokens before its number and a few after it.
CONTEXT_BEFORE, CONTEXT_AFTER = 120, 40


def spaced_punctuation(text: str) -> str:
    """Text with spaces around the punctuation of pasted JSON, CSV and lists, so each value is a
    word; execution ids, whose format is exact, are set apart whatever they are glued to; the
    dot of "No." and "ord." goes, so that it does not end a sentence for the matcher."""
    text = ABBREVIATION_DOT.sub(lambda match: match.group(1) or " ", text)
    text = ID_HYPHEN.sub(" - ", text)
    if EXECUTION_TAIL.search(text):
        text = EXECUTION.sub(lambda match: f" {match.group()} ", text)
    return GLUE.sub(lambda match: f" {match.group()} ", text)


def candidate_windows(text: str) -> str:
    """The stretches of ``text`` around possible identifiers, in order, one per paragraph.

    The matcher's patterns never reach further than a dozen tokens from a number, so only
    the words near six-digit runs need tokenizing and matching: most of a long email is
    skipped, which is what makes extraction cheap.  Windows are widened to whole words and
    merged when they touch, so a list of numbers stays one stretch.
    """
    stretches: list[list[int]] = []
    candidates = CANDIDATE_OR_EXECUTION if EXECUTION_TAIL.search(text) else CANDIDATE
    for match in candidates.finditer(text):
        start, end = max(0, match.start() - CONTEXT_BEFORE), min(len(text), match.end() + CONTEXT_AFTER)
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([start, end])
    pieces = []
    for start, end in stretches:
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        pieces.append(text[start:end])
    return "\n\n".join(pieces)
