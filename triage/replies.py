"""Reply suggestions: pick the template for the topic and request, render it in a sandbox.

Templates live in ``templates/<lang>/<topic>[--<variant>].j2``: TOML front matter between
``+++`` lines, then a Jinja2 body.  Where a topic has variants, a small similarity model
over each template's example requests picks the one closest to the client's words.
Client text only ever enters as a variable's value: it is never parsed as a template,
and the sandbox keeps templates from reaching anything but the values given.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.errors import ConfigError

FRONT_MATTER = "+++"
KEYS = {"id", "topic", "language", "variant", "applies_when", "subject", "required", "optional", "examples"}
REPLY_LANGUAGES = ("en", "ru", "es")


@dataclass(frozen=True)
class ReplyTemplate:
    """One template file: what it answers, the fields it needs, its example requests."""

    id: str
    topic: str
    language: str
    variant: str
    applies_when: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    examples: tuple[str, ...]
    subject_source: str
    body_source: str


@dataclass(frozen=True)
class Reply:
    """A suggested reply: which template, in which language, and the rendered text."""

    template: str
    language: str
    subject: str
    body: str


class TemplateLibrary:
    """All templates, their compiled sandboxed forms, and the variant chooser per topic."""

    def __init__(self, root: Path):
        self.templates = load_templates(root)
        self.environments = {
            language: SandboxedEnvironment(loader=FileSystemLoader(str(Path(root) / language)),
                                           undefined=StrictUndefined, autoescape=False,
                                           keep_trailing_newline=False)
            for language in {t.language for t in self.templates}}
        self.compiled = {t.id: (self.environments[t.language].from_string(t.subject_source),
                                self.environments[t.language].from_string(t.body_source))
                         for t in self.templates}
        self.choosers = {}
        for key in {(t.language, t.topic) for t in self.templates}:
            group = [t for t in self.templates if (t.language, t.topic) == key]
            self.choosers[key] = VariantChooser(group)

    def choose(self, language: str, topic: str, text: str) -> ReplyTemplate:
        """The template for the topic in the language (English when it has none) closest to ``text``."""
        language = language if (language, topic) in self.choosers else "en"
        return self.choosers[(language, topic)].choose(text)

    def render(self, template: ReplyTemplate, values: dict) -> Reply:
        """Subject and body rendered with ``values``; a missing variable is an error, not a hole."""
        subject, body = self.compiled[template.id]
        return Reply(template=template.id, language=template.language,
                     subject=" ".join(subject.render(values).split()), body=body.render(values).strip() + "\n")


class VariantChooser:
    """Cosine similarity of the client's text to each template's mean example (character n-grams)."""

    def __init__(self, group: list[ReplyTemplate]):
        self.group = group
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        examples = [example for template in group for example in template.examples]
        matrix = self.vectorizer.fit_transform([e.lower() for e in examples])
        centroids, start = [], 0
        for template in group:
            rows = matrix[start:start + len(template.examples)]
            centroids.append(np.asarray(rows.mean(axis=0)).ravel())
            start += len(template.examples)
        self.centroids = np.vstack(centroids)
        self.fallback = next((t for t in group if not t.variant), group[0])

    def choose(self, text: str) -> ReplyTemplate:
        if len(self.group) == 1:
            return self.group[0]
        vector = self.vectorizer.transform([text.lower()]).toarray().ravel()
        scores = self.centroids @ vector
        return self.group[int(np.argmax(scores))] if scores.max() > 0 else self.fallback


def load_templates(root: Path) -> list[ReplyTemplate]:
    """Every template under ``root``; a malformed one raises ConfigError naming the file."""
    templates = []
    for path in sorted(Path(root).glob("*/*.j2")):
        if path.name.startswith("_"):
            continue
        templates.append(_template(path))
    if not templates:
        raise ConfigError(f"no reply templates under {root}")
    return templates


def _template(path: Path) -> ReplyTemplate:
    text = path.read_text(encoding="utf-8")
    parts = text.split(FRONT_MATTER + "\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ConfigError(f"{path}: expected front matter between two '+++' lines")
    try:
        meta = tomllib.loads(parts[1])
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    missing = KEYS - set(meta)
    if missing:
        raise ConfigError(f"{path}: front matter lacks {', '.join(sorted(missing))}")
    return ReplyTemplate(id=meta["id"], topic=meta["topic"], language=meta["language"], variant=meta["variant"],
                         applies_when=meta["applies_when"], required=tuple(meta["required"]),
                         optional=tuple(meta["optional"]), examples=tuple(meta["examples"]),
                         subject_source=meta["subject"], body_source=parts[2])


def reply_values(from_name: str, language: str, case_ref: str, identifiers) -> dict:
    """The variables templates may use; client text enters only here, as values."""
    name = from_name.strip() or None
    return {
        "client_name": name, "first_name": name.split()[0] if name else None, "language": language,
        "case_ref": case_ref,
        "account_id": next(iter(identifiers.account_ids), None), "account_ids": list(identifiers.account_ids),
        "order_id": next(iter(identifiers.order_ids), None), "order_ids": list(identifiers.order_ids),
        "execution_ids": list(identifiers.execution_ids),
        "transaction_id": next(iter(identifiers.transaction_ids), None),
        "transaction_ids": list(identifiers.transaction_ids),
    }
