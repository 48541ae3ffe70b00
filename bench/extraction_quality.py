"""Identifier extraction on the held-out extraction test set (or the dev set), and its speed.

The held-out sets (``test-*.jsonl``) are only measured: their mistakes are not printed,
so nobody tunes patterns on them.  The dev sets (``dev*.jsonl``; ``dev.jsonl`` is the first
held-out set, whose mistakes were once seen) are where rules are checked and tuned;
``--dev`` prints each mistake in context.  Figures for all files together, then accounts
and orders file by file (held-out sets were added at different times).  Each labeled email is sent through the real path: the body, the signature and the
quoted history are assembled into a MIME message, parsed, and extracted from the subject
and new text.  Precision and recall per identifier kind and language; then emails/s on
one core for 100-word emails.

    python bench/extraction_quality.py [--dev]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path

from triage.extract.identifiers import extract
from triage.mail.parse import parse

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "fixtures" / "extraction"
KINDS = ("account_ids", "order_ids", "execution_ids", "transaction_ids")
TARGETS = {"account_ids": (0.99, 0.98), "order_ids": (0.97, 0.97)}


def as_mail(row: dict) -> bytes:
    """The row as a client's mail program would send it: body, signature, quoted history."""
    text = row["body"].rstrip()
    if row.get("signature"):
        text += "\n" + row["signature"]
    if row.get("quoted"):
        text += "\n\n" + row["quoted"]
    message = EmailMessage()
    message["From"] = "client@example.net"
    message["To"] = "support@desk.example"
    message["Subject"] = row["subject"]
    message.set_content(text + "\n")
    return message.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="measure the dev set and print each mistake")
    args = parser.parse_args()
    files = sorted(SETS.glob("dev*.jsonl")) if args.dev else sorted(SETS.glob("test-*.jsonl"))
    rows = [{**json.loads(line), "_file": path.name} for path in files
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    mistakes = []
    for row in rows:
        group_of_file = row["_file"]
        email = parse(as_mail(row))
        found = extract(email.normalized_subject, email.new_text, row["lang"])
        for kind in KINDS:
            want, have = set(row[kind]), set(getattr(found, kind))
            for group in (row["lang"], "all", group_of_file):
                cell = counts[(kind, group)]
                cell[0] += len(want & have)
                cell[1] += len(have - want)
                cell[2] += len(want - have)
            mistakes += [(row["id"], kind, "extra", v, context(row, v)) for v in have - want]
            mistakes += [(row["id"], kind, "missed", v, context(row, v)) for v in want - have]
    print(f"{len(rows)} emails from", ", ".join(str(path.relative_to(ROOT)) for path in files))
    print("| kind | group | precision | recall | tp | fp | fn | target P/R |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        for group in ("all", "en", "ru", "es"):
            tp, fp, fn = counts[(kind, group)]
            target = "/".join(map(str, TARGETS.get(kind, ()))) if group == "all" else ""
            print(f"| {kind} | {group} | {tp / max(1, tp + fp):.3f} | {tp / max(1, tp + fn):.3f} | {tp} | {fp} | {fn} "
                  f"| {target} |")
    for path in files:
        figures = []
        for kind in ("account_ids", "order_ids"):
            tp, fp, fn = counts[(kind, path.name)]
            figures.append(f"{kind} P {tp / max(1, tp + fp):.3f} R {tp / max(1, tp + fn):.3f}")
        print(f"{path.name}: " + ", ".join(figures))
    if args.dev:
        for mistake in mistakes:
            print("mistake:", *mistake)
    speed(rows)


def context(row: dict, value: str) -> str:
    """Forty characters either side of the value's digits in the subject and body."""
    text = f"{row['subject']} | {row['body']}"
    digits = value.lstrip("UDF")
    at = text.find(digits)
    return repr(text[max(0, at - 40):at + len(digits) + 40]) if at >= 0 else "(not in subject or body)"


def speed(rows: list[dict]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = []
    for row in rows:
        words = row["body"].split()
        while len(words) < 100:
            words += words
        texts.append((row["subject"], " ".join(words[:100]), row["lang"]))
    texts = texts * 10
    for subject, text, lang in texts[:200]:
        extract(subject, text, lang)
    wall, cpu = time.perf_counter(), time.process_time()
    for subject, text, lang in texts:
        extract(subject, text, lang)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # CPU time is what one core spends per email; wall time also counts waiting for the
    # core when other work runs on the machine.
    print(f"extraction speed, 100-word emails, one core: {len(texts) / cpu:,.0f}/s of CPU time, "
          f"{len(texts) / wall:,.0f}/s wall clock (target >= 3,000/s)")


if __name__ == "__main__":
    main()
