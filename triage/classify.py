"""The classification step: topic and urgency of a parsed email from the active model.

Automatic mail (auto-replies, bounces, bulk) is ``other`` / ``low`` by the taxonomy,
whatever its words say; everything else is the model's call.
"""

from __future__ import annotations

from classifiers.bundle import ModelBundle, Prediction
from classifiers.text import model_text
from triage.mail.record import Email


def classify(email: Email, model: ModelBundle) -> Prediction:
    """Topic and urgency with probabilities and the model version."""
    if email.auto_reply:
        return Prediction(topic="other", topic_confidence=1.0, secondary_topics=(), urgency="low",
                          urgency_confidence=1.0, topic_probabilities={"other": 1.0},
                          urgency_probabilities={"low": 1.0}, model_version=model.version)
    return model.predict([model_text(email.normalized_subject, email.new_text)])[0]
