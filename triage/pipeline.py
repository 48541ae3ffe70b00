"""``triage(raw) -> TriageResult``: the one entry the CLI, the worker and the tests use.

Each step is a plain function over typed records; this module composes them in order:
parse, detect the language, classify.  What is measured offline is exactly what runs
in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.bundle import ModelBundle, Prediction
from triage.classify import classify
from triage.language import LanguageGuess, detect_language
from triage.mail.parse import DEFAULT_LIMITS, ParseLimits, parse
from triage.mail.record import Email
from triage.settings import Settings


@dataclass(frozen=True)
class TriageContext:
    """What the steps need besides the message: bounds, the loaded model, settings."""

    limits: ParseLimits = DEFAULT_LIMITS
    model: ModelBundle | None = None
    languages: tuple[str, ...] = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")
    review_threshold: float = 0.5


@dataclass(frozen=True)
class TriageResult:
    """Everything the pipeline concluded about one message.

    ``prediction`` and ``needs_review`` are None only when no model is loaded.
    """

    email: Email
    language: LanguageGuess
    prediction: Prediction | None
    needs_review: bool | None


def triage(raw: bytes, context: TriageContext = TriageContext()) -> TriageResult:
    """Run every step over one raw message; no I/O beyond what the context has loaded."""
    email = parse(raw, context.limits)
    model = context.model
    language = detect_language(email.new_text, email.normalized_subject, context.languages,
                               translit=model.translit_probability if model else None)
    prediction = classify(email, model) if model else None
    needs_review = prediction.topic_confidence < context.review_threshold if prediction else None
    return TriageResult(email=email, language=language, prediction=prediction, needs_review=needs_review)


def parse_limits(settings: Settings) -> ParseLimits:
    """The parser's bounds as the settings give them."""
    return ParseLimits(max_message_bytes=settings.max_message_bytes, max_headers=settings.max_headers,
                       max_mime_parts=settings.max_mime_parts, max_text_chars=settings.max_text_chars)


def context_for(settings: Settings, model: ModelBundle | None) -> TriageContext:
    """The pipeline context the settings describe, with ``model`` loaded."""
    return TriageContext(limits=parse_limits(settings), model=model, languages=tuple(settings.languages),
                         review_threshold=settings.review_threshold)
