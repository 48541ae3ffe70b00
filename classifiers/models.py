"""The estimators: shared text features, topic and urgency models, and their alternatives.

Every model is a scikit-learn estimator, so training, cross-validation and persistence
follow the library's contract.  ``CANDIDATES`` lists the alternatives the model card
compares; ``DEFAULT`` names the one kept.
"""

from __future__ import annotations

from collections.abc import Callable

from scipy import sparse
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from classifiers.calibration import SEED
from classifiers.cues import UrgencyCues
from classifiers.ordinal import OrdinalClassifier
from classifiers.vectorize import CharGramTfidf

CUE_WEIGHT = 0.5
TOPIC_WEIGHT = 0.5


def build_features() -> FeatureUnion:
    """Sparse TF-IDF over word 1-2-grams and character 3-4-grams, plus urgency cues.

    Words carry the phrases ("margin call", "не пришли"); character n-grams carry
    morphology and typos.  The model card records the alternatives tried.
    """
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                  token_pattern=r"(?u)\b\w+\b", lowercase=False)),
        ("chars", CharGramTfidf(min_df=2)),
        ("cues", UrgencyCues()),
    ], transformer_weights={"words": 1.0, "chars": 1.0, "cues": CUE_WEIGHT})


def urgency_matrix(features, topic_probabilities):
    """The urgency model reads the text features and the topic model's probabilities.

    What a mail is about shifts what is at stake (thanks are low, a hacked account is
    critical), so urgency is stacked on topic.
    """
    return sparse.hstack([features, TOPIC_WEIGHT * sparse.csr_matrix(topic_probabilities)]).tocsr()


def slim(features: FeatureUnion) -> FeatureUnion:
    """Drop what fitting keeps only for inspection (the pruned terms): megabytes on disk."""
    for _, vectorizer in features.transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    return features


CANDIDATES: dict[str, Callable[[], ClassifierMixin]] = {
    "logreg": lambda: LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000, random_state=SEED),
    "linearsvc": lambda: LinearSVC(C=0.5, class_weight="balanced", random_state=SEED),
    "linearsvc_calibrated": lambda: CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced", random_state=SEED), cv=3),
    "sgd_modified_huber": lambda: SGDClassifier(loss="modified_huber", class_weight="balanced", random_state=SEED),
    "complement_nb": lambda: ComplementNB(alpha=0.3),
}
DEFAULT = "linearsvc"
URGENCY_ORDER = ("low", "normal", "high", "critical")


def build_classifier(name: str = DEFAULT) -> ClassifierMixin:
    """A fresh, untrained estimator of the named kind."""
    return CANDIDATES[name]()


def build_urgency_model() -> OrdinalClassifier:
    """Urgency as ordered cuts, each a balanced logistic regression (see ``classifiers.ordinal``)."""
    return OrdinalClassifier(LogisticRegression(C=30.0, class_weight="balanced", max_iter=3000,
                                                random_state=SEED), URGENCY_ORDER)
