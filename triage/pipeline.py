"""``triage(raw) -> TriageResult``: the one entry the CLI, the worker and the tests use.

Each step is a plain function over typed records; this module composes them in order:
parse, detect the language, classify, extract identifiers, route, suggest a reply.
What is measured offline is exactly what runs in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from classifiers.bundle import ModelBundle, Prediction
from triage.classify import classify
from triage.extract.extras import Extras, extract_extras
from triage.extract.identifiers import Identifiers, extract
from triage.language import LanguageGuess, detect_language
from triage.mail.parse import DEFAULT_LIMITS, ParseLimits, parse
from triage.mail.record import Email
from triage.replies import Reply, TemplateLibrary, reply_values
from triage.routing import Facts, Route, Rule, load_rules, route
from triage.settings import Settings


@dataclass(frozen=True)
class TriageContext:
    """What the steps need besides the message: bounds, the loaded model, settings."""

    limits: ParseLimits = DEFAULT_LIMITS
    model: ModelBundle | None = None
    languages: tuple[str, ...] = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")
    review_threshold: float = 0.5
    rules: tuple[Rule, ...] = ()
    templates: TemplateLibrary | None = None


@dataclass(frozen=True)
class TriageResult:
    """Everything the pipeline concluded about one message.

    ``prediction``, ``needs_review``, ``route`` and ``reply`` are None when no model is
    loaded; ``reply`` is also None for automatic mail, which is never answered.
    """

    email: Email
    language: LanguageGuess
    prediction: Prediction | None
    needs_review: bool | None
    identifiers: Identifiers
    extras: Extras
    route: Route | None
    reply: Reply | None


def triage(raw: bytes, context: TriageContext = TriageContext()) -> TriageResult:
    """Run every step over one raw message; no I/O beyond what the context has loaded."""
    email = parse(raw, context.limits)
    model = context.model
    language = detect_language(email.new_text, email.normalized_subject, context.languages,
                               translit=model.translit_probability if model else None)
    prediction = classify(email, model) if model else None
    needs_review = prediction.topic_confidence < context.review_threshold if prediction else None
    text = f"{email.normalized_subject}\n\n{email.new_text}"
    identifiers = extract(email.normalized_subject, email.new_text, language.code)
    team = _route(email, language, prediction, identifiers, context) if prediction else None
    reply = None
    if prediction and context.templates and not email.auto_reply:
        template = context.templates.choose(language.code, prediction.topic, text)
        case_ref = f"CS-{hashlib.sha256(raw).hexdigest()[:8].upper()}"
        reply = context.templates.render(template, reply_values(email.from_name, template.language, case_ref,
                                                                identifiers))
    return TriageResult(email=email, language=language, prediction=prediction, needs_review=needs_review,
                        identifiers=identifiers, extras=extract_extras(text), route=team, reply=reply)


def _route(email: Email, language: LanguageGuess, prediction: Prediction, identifiers: Identifiers,
           context: TriageContext) -> Route | None:
    present = frozenset(kind for kind in ("account_ids", "order_ids", "execution_ids", "transaction_ids")
                        if getattr(identifiers, kind))
    facts = Facts(topic=prediction.topic, urgency=prediction.urgency, language=language.code,
                  sender=email.from_address, identifiers=present, auto_reply=email.auto_reply)
    return route(facts, context.rules) if context.rules else None


def parse_limits(settings: Settings) -> ParseLimits:
    """The parser's bounds as the settings give them."""
    return ParseLimits(max_message_bytes=settings.max_message_bytes, max_headers=settings.max_headers,
                       max_mime_parts=settings.max_mime_parts, max_text_chars=settings.max_text_chars)


def context_for(settings: Settings, model: ModelBundle | None) -> TriageContext:
    """The pipeline context the settings describe, with ``model``, rules and templates loaded."""
    return TriageContext(limits=parse_limits(settings), model=model, languages=tuple(settings.languages),
                         review_threshold=settings.review_threshold, rules=load_rules(settings.routing_file),
                         templates=TemplateLibrary(settings.templates_dir))
