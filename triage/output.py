"""The JSON record of one triaged message: a stable interface, one object per line.

Every key is always present; a key whose step does not exist yet is null.
"""

from __future__ import annotations

from typing import Any

from triage.pipeline import TriageResult

KEYS = (
    "source", "message_id", "subject", "new_text", "signature", "forwarded", "language",
    "topic", "topic_confidence", "secondary_topics", "urgency", "urgency_confidence",
    "account_ids", "order_ids", "execution_ids", "transaction_ids", "team", "route_reason",
    "auto_reply", "needs_review", "reply", "model_version", "extras", "warnings",
)


def result_record(source: str, result: TriageResult) -> dict[str, Any]:
    """The output object for a message that went through the pipeline."""
    email = result.email
    record: dict[str, Any] = dict.fromkeys(KEYS)
    record.update(
        source=source,
        message_id=email.message_id,
        subject=email.subject,
        new_text=email.new_text,
        signature=email.signature,
        forwarded=email.forwarded,
        auto_reply=email.auto_reply,
        language=result.language.code,
        needs_review=result.needs_review,
        warnings=list(email.warnings),
    )
    ids = result.identifiers
    record.update(
        account_ids=list(ids.account_ids), order_ids=list(ids.order_ids),
        execution_ids=list(ids.execution_ids), transaction_ids=list(ids.transaction_ids),
        extras={"tickers": list(result.extras.tickers), "options": list(result.extras.options),
                "isins": list(result.extras.isins), "amounts": list(result.extras.amounts),
                "identifier_rules": [f"{found.value}: {found.rule}" for found in ids.found]},
    )
    if result.route is not None:
        record.update(team=result.route.team, route_reason=result.route.reason)
    if result.reply is not None:
        reply = result.reply
        record["reply"] = {"template": reply.template, "language": reply.language, "subject": reply.subject,
                           "body": reply.body}
    prediction = result.prediction
    if prediction is not None:
        record.update(
            topic=prediction.topic,
            topic_confidence=prediction.topic_confidence,
            secondary_topics=list(prediction.secondary_topics),
            urgency=prediction.urgency,
            urgency_confidence=prediction.urgency_confidence,
            model_version=prediction.model_version,
        )
    return record


def error_record(source: str, error: str) -> dict[str, Any]:
    """The output object for a message that could not be read or parsed."""
    record: dict[str, Any] = dict.fromkeys(KEYS)
    record.update(source=source, error=error)
    return record
