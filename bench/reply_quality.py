"""New-text extraction on the fixtures, against the public reply parsers.

Every tool gets the same decoded body text (HTML already laid out as text) and is
scored on exact match of the client's new text after whitespace normalisation, per
language and for forwards.  Peers that keep the signature are given credit when their
output equals new text plus signature, since signature handling is not what is measured.

    pip install '.[bench]' && python bench/reply_quality.py
"""

from __future__ import annotations

import email
import json
import re
from collections import defaultdict
from pathlib import Path

from email_reply_parser import EmailReplyParser
from talon import quotations

from triage.mail.html import QUOTE_MARK
from triage.mail.mime import extract_body
from triage.mail.parse import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eml"


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def body_text(raw: bytes) -> str:
    """The decoded body as one text, the way every tool receives it."""
    body = extract_body(email.message_from_bytes(raw), 1_000_000)
    return "\n\n".join(body.texts + body.forwards).replace(QUOTE_MARK, "")


def matches(output: str, expected: dict, lenient: bool) -> bool:
    actual = squash(output)
    if "new_text" in expected:
        wanted = {squash(expected["new_text"])}
        if lenient and expected["signature"]:
            wanted.add(squash(expected["new_text"] + " " + expected["signature"]))
        return actual in wanted
    return all(squash(part) in actual for part in expected.get("new_text_contains", [])) and not any(
        squash(part) in actual for part in expected.get("new_text_excludes", []))


def main() -> None:
    tools = {
        "triage": lambda raw, text: parse(raw).new_text,
        "email-reply-parser": lambda raw, text: EmailReplyParser.parse_reply(text),
        "talon": lambda raw, text: quotations.extract_from_plain(text),
    }
    scores: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for path in sorted(FIXTURES.glob("*.eml")):
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if expected.get("auto_reply"):
            continue
        raw = path.read_bytes()
        text = body_text(raw)
        groups = [path.name.split("-")[0], "all"] + (["forwards"] if expected["forwarded"] else [])
        for name, tool in tools.items():
            hit = matches(tool(raw, text), expected, lenient=name != "triage")
            for group in groups:
                scores[group][name][0] += hit
                scores[group][name][1] += 1
    names = list(tools)
    print("| fixtures | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for group in sorted(scores, key=lambda g: (g in ("all", "forwards"), g)):
        cells = [f"{scores[group][n][0]}/{scores[group][n][1]} ({scores[group][n][0] / scores[group][n][1]:.0%})"
                 for n in names]
        print(f"| {group} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
