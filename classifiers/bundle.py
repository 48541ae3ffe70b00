"""A trained model bundle and what it predicts for one email.

The bundle holds one fitted feature union shared by the topic and urgency models (the
text is vectorized once per email), the translit detector, and the decision thresholds
chosen at training time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.models import urgency_matrix
from classifiers.translit import translit_text

SECONDARY_MIN_PROBABILITY = 0.25
MAX_SECONDARY = 2


@dataclass(frozen=True)
class Prediction:
    """Topic and urgency with their probabilities, and the model version that said so."""

    topic: str
    topic_confidence: float
    secondary_topics: tuple[str, ...]
    urgency: str
    urgency_confidence: float
    topic_probabilities: dict[str, float]
    urgency_probabilities: dict[str, float]
    model_version: str


@dataclass
class ModelBundle:
    """Everything one model version needs to predict, plus its model card."""

    version: str
    features: FeatureUnion
    topic: ClassifierMixin
    urgency: ClassifierMixin
    translit: Pipeline
    critical_threshold: float
    card: dict = field(default_factory=dict)

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Predictions for model texts (see ``classifiers.text.model_text``), in order."""
        if not texts:
            return []
        matrix = self.features.transform(texts)
        topics = self.topic.predict_proba(matrix)
        urgencies = self.urgency.predict_proba(urgency_matrix(matrix, topics))
        return [self._prediction(t, u) for t, u in zip(topics, urgencies)]

    def translit_probability(self, text: str) -> float:
        """Probability that a Latin-script text is Russian in translit.

        Computed from the fitted coefficients directly: this runs once per email, and the
        estimator's own input checks would cost more than the arithmetic.
        """
        vector = self.translit.named_steps["chars"].transform([translit_text(text)])
        model = self.translit.named_steps["model"]
        return float(expit((vector @ model.coef_[0])[0] + model.intercept_[0]))

    def _prediction(self, topic_row: np.ndarray, urgency_row: np.ndarray) -> Prediction:
        topic_classes = list(self.topic.classes_)
        urgency_classes = list(self.urgency.classes_)
        order = np.argsort(topic_row)[::-1]
        best = topic_classes[order[0]]
        secondary = tuple(topic_classes[i] for i in order[1:1 + MAX_SECONDARY]
                          if topic_row[i] >= SECONDARY_MIN_PROBABILITY)
        urgency = decide_urgency(urgency_classes, urgency_row, self.critical_threshold)
        return Prediction(
            topic=best,
            topic_confidence=round(float(topic_row[order[0]]), 4),
            secondary_topics=secondary,
            urgency=urgency,
            urgency_confidence=round(float(urgency_row[urgency_classes.index(urgency)]), 4),
            topic_probabilities={c: round(float(p), 4) for c, p in zip(topic_classes, topic_row)},
            urgency_probabilities={c: round(float(p), 4) for c, p in zip(urgency_classes, urgency_row)},
            model_version=self.version,
        )


def decide_urgency(classes: list[str], row: np.ndarray, critical_threshold: float) -> str:
    """Critical whenever its probability reaches the threshold; else the most probable class.

    The threshold is set low enough at training time that a critical mail is not left
    in a normal queue: a false alarm costs an agent a minute, a miss can cost the client.
    """
    if "critical" in classes and row[classes.index("critical")] >= critical_threshold:
        return "critical"
    return classes[int(np.argmax(row))]
