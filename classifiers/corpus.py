"""The labeled corpus: load it, check every record against the taxonomy, find near-duplicates.

Records live in JSON Lines files under ``fixtures/corpus/{train,test}/``, one file per
writer.  The checks here are the contract a writer's file must meet before it is used.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

TOPICS = (
    "platform", "funding", "position_transfer", "account_admin", "product", "order_types",
    "order_status", "settlement", "exercise_expiration", "corporate_actions", "margin",
    "fees", "compliance", "other",
)
URGENCIES = ("critical", "high", "normal", "low")
SPLITS = ("train", "test")

ACCOUNT_ID = re.compile(r"(?:U|DU|F|DF)\d{6,8}")
ORDER_ID = re.compile(r"\d{6,12}")
EXECUTION_ID = re.compile(r"[0-9a-f]{8}\.[0-9a-f]{8}\.\d{2}\.\d{2}")
TRANSACTION_ID = re.compile(r"\d+")
ID_FORMATS = {
    "account_ids": ACCOUNT_ID,
    "order_ids": ORDER_ID,
    "execution_ids": EXECUTION_ID,
    "transaction_ids": TRANSACTION_ID,
}
REQUIRED = {
    "id": str, "split": str, "writer": str, "persona": str, "lang": str, "subject": str,
    "body": str, "topic": str, "urgency": str, "secondary_topics": list,
    "account_ids": list, "order_ids": list, "execution_ids": list, "transaction_ids": list,
}


@dataclass(frozen=True)
class Record:
    """One labeled client email as a writer wrote it (the new text, before rendering)."""

    id: str
    split: str
    writer: str
    persona: str
    lang: str
    subject: str
    body: str
    topic: str
    urgency: str
    secondary_topics: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    execution_ids: tuple[str, ...] = ()
    transaction_ids: tuple[str, ...] = ()
    quoted: str | None = None
    source: str = field(default="", compare=False)


def load_corpus(root: Path) -> list[Record]:
    """Read every ``*.jsonl`` file under ``root``; a malformed line raises ValueError naming it."""
    records = []
    root = Path(root)
    for path in [root] if root.is_file() else sorted(root.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                records.append(_record(json.loads(line), f"{path}:{number}"))
    return records


def _record(data: dict, where: str) -> Record:
    missing = [key for key, kind in REQUIRED.items() if not isinstance(data.get(key), kind)]
    if missing:
        raise ValueError(f"{where}: missing or mistyped {', '.join(missing)}")
    known = set(Record.__dataclass_fields__) - {"source"}
    values = {key: tuple(val) if isinstance(val, list) else val
              for key, val in data.items() if key in known}
    return Record(**values, source=where)


def problems(record: Record) -> list[str]:
    """Everything wrong with one record, as sentences naming where it is."""
    found = []
    if record.topic not in TOPICS:
        found.append(f"unknown topic {record.topic!r}")
    if record.urgency not in URGENCIES:
        found.append(f"unknown urgency {record.urgency!r}")
    if record.split not in SPLITS:
        found.append(f"unknown split {record.split!r}")
    if not re.fullmatch(r"[a-z]{2}", record.lang):
        found.append(f"lang {record.lang!r} is not an ISO 639-1 code")
    for topic in record.secondary_topics:
        if topic not in TOPICS or topic == record.topic:
            found.append(f"bad secondary topic {topic!r}")
    for key, pattern in ID_FORMATS.items():
        values = getattr(record, key)
        if len(set(values)) != len(values):
            found.append(f"{key} has duplicates")
        for value in values:
            if not pattern.fullmatch(value):
                found.append(f"{key} value {value!r} is not canonical")
    if not record.body.strip():
        found.append("empty body")
    return [f"{record.source} ({record.id}): {text}" for text in found]


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """Word n-grams of the lower-cased text: the unit of the near-duplicate rule."""
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def near_duplicates(records: list[Record], threshold: float = 0.5) -> list[tuple[str, str, float]]:
    """Pairs of records sharing at least ``threshold`` of the smaller one's 3-shingles.

    Texts too short to have a shingle are compared whole.  The pair counts come from a
    sparse product, so the whole corpus is checked in seconds.
    """
    from scipy import sparse

    sets = [shingles(f"{r.subject} {r.body}") for r in records]
    vocabulary: dict[tuple[str, ...], int] = {}
    rows, cols = [], []
    for row, items in enumerate(sets):
        for item in items:
            rows.append(row)
            cols.append(vocabulary.setdefault(item, len(vocabulary)))
    matrix = sparse.csr_matrix(([1] * len(rows), (rows, cols)), shape=(len(sets), len(vocabulary)))
    shared = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    pairs = []
    for a, b, count in zip(shared.row, shared.col, shared.data):
        smaller = min(len(sets[a]), len(sets[b]))
        if count / smaller >= threshold:
            pairs.append((records[a].id, records[b].id, round(count / smaller, 2)))
    seen: dict[str, str] = {}
    for record, items in zip(records, sets):
        if not items:
            key = " ".join(re.findall(r"\w+", f"{record.subject} {record.body}".lower()))
            if key in seen:
                pairs.append((seen[key], record.id, 1.0))
            seen.setdefault(key, record.id)
    return pairs


def main(root: str) -> int:
    """Check a corpus folder and print every problem; exit status 1 if any."""
    records = load_corpus(Path(root))
    issues = [text for record in records for text in problems(record)]
    ids = [record.id for record in records]
    issues += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    issues += [f"near-duplicates {a} {b} share {s:.0%}" for a, b, s in near_duplicates(records)]
    for text in issues:
        print(text)
    print(f"{len(records)} records, {len(issues)} problems")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "fixtures/corpus"))
