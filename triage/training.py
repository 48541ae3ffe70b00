"""Labeled mail in, training examples out, through the same parser as production.

A desk brings its history as the corpus's JSON Lines, a CSV with the same columns, or a
folder of .eml files with a ``labels.csv`` / ``labels.jsonl`` naming each file's labels.
Corpus records are rendered to real MIME first (``classifiers.render``), so the model
learns from what ``parse()`` makes of mail, not from the writer's clean text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.corpus import TOPICS, URGENCIES, Record, load_corpus
from classifiers.render import render
from classifiers.text import model_text
from classifiers.train import Example
from triage.errors import TriageError
from triage.mail.parse import parse


class LabelError(TriageError):
    """Raised when labeled data is malformed or uses a label outside the taxonomy."""


@dataclass(frozen=True)
class LabeledMail:
    """Raw message bytes with their labels."""

    id: str
    raw: bytes
    lang: str
    topic: str
    urgency: str
    split: str = "train"


def load_labeled(path: Path) -> list[LabeledMail]:
    """Every labeled message at ``path`` (corpus folder, .jsonl, .csv, or .eml folder with labels)."""
    path = Path(path)
    if path.is_dir() and any(path.glob("labels.*")):
        return list(_eml_folder(path))
    if path.suffix == ".csv":
        return [_from_record(record) for record in _csv_records(path)]
    if not path.exists():
        raise LabelError(f"no labeled data at {path}")
    try:
        return [_from_record(record) for record in load_corpus(path)]
    except (ValueError, TypeError) as error:
        raise LabelError(str(error)) from error


def to_example(mail: LabeledMail) -> Example:
    """The example the model trains or is evaluated on: parsed exactly as in production."""
    email = parse(mail.raw)
    return Example(id=mail.id, text=model_text(email.normalized_subject, email.new_text),
                   plain=f"{email.normalized_subject}\n{email.new_text}", lang=mail.lang,
                   topic=mail.topic, urgency=mail.urgency)


def _from_record(record: Record) -> LabeledMail:
    _check_labels(record.topic, record.urgency, record.source or record.id)
    return LabeledMail(record.id, render(record), record.lang, record.topic, record.urgency, record.split)


def _csv_records(path: Path) -> Iterator[Record]:
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            try:
                yield Record(id=row.get("id") or f"{path.stem}-{number}", split=row.get("split") or "train",
                             writer=row.get("writer", ""), persona=row.get("persona", ""), lang=row["lang"],
                             subject=row.get("subject", ""), body=row["body"], topic=row["topic"],
                             urgency=row["urgency"], quoted=row.get("quoted") or None, source=f"{path}:{number}")
            except KeyError as missing:
                raise LabelError(f"{path}:{number}: missing column {missing}") from None


def _eml_folder(folder: Path) -> Iterator[LabeledMail]:
    for number, row in _label_rows(folder):
        name = row.get("file", "")
        where = f"{folder}/labels line {number}"
        _check_labels(row.get("topic", ""), row.get("urgency", ""), where)
        message = folder / name
        if not name or not message.is_file():
            raise LabelError(f"{where}: no message file {name!r}")
        yield LabeledMail(name, message.read_bytes(), row.get("lang", ""), row["topic"], row["urgency"],
                          row.get("split") or "train")


def _label_rows(folder: Path) -> Iterator[tuple[int, dict]]:
    jsonl = folder / "labels.jsonl"
    if jsonl.exists():
        for number, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                yield number, json.loads(line)
        return
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        yield from enumerate(csv.DictReader(handle), 2)


def _check_labels(topic: str, urgency: str, where: str) -> None:
    if topic not in TOPICS:
        raise LabelError(f"{where}: unknown topic {topic!r} (TAXONOMY.md lists {', '.join(TOPICS)})")
    if urgency not in URGENCIES:
        raise LabelError(f"{where}: unknown urgency {urgency!r} (one of {', '.join(URGENCIES)})")


def examples_of(mails: list[LabeledMail]) -> list[Example]:
    return [to_example(mail) for mail in mails]
