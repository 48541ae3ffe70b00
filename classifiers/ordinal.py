"""Ordinal classification for urgency: low < normal < high < critical.

Urgency levels are ordered, and a flat multi-class model throws that away: it learns
"critical" against "high" from a handful of examples.  Here one binary model per cut
answers "at least this urgent?" (at least normal, at least high, critical), each trained
on every example, and the class probabilities are the differences of those cumulative
probabilities.  On writer-grouped cross-validation of the train split this lifts urgency
macro-F1 by about two points over the flat model at the same critical recall (see the
model card).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifiers.calibration import FOLDS, SEED


class OrdinalClassifier(BaseEstimator, ClassifierMixin):
    """Cumulative binary models over ``order`` (least to most urgent).

    After ``fit``, ``oof_probabilities_`` holds out-of-fold class probabilities of the
    training rows (for the critical threshold); ``forget_training()`` drops them.
    """

    def __init__(self, estimator, order: tuple[str, ...], folds: int = FOLDS, n_jobs: int = 2):
        self.estimator = estimator
        self.order = order
        self.folds = folds
        self.n_jobs = n_jobs

    def fit(self, X, y):
        labels = np.asarray(y)
        unknown = set(labels) - set(self.order)
        if unknown:
            raise ValueError(f"labels outside the order {self.order}: {sorted(unknown)}")
        rank = np.array([self.order.index(label) for label in labels])
        splitter = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=SEED)
        self.estimators_, cumulative = [], []
        for cut in range(1, len(self.order)):
            above = (rank >= cut).astype(int)
            cumulative.append(cross_val_predict(clone(self.estimator), X, above, cv=splitter,
                                                method="predict_proba", n_jobs=self.n_jobs)[:, 1])
            self.estimators_.append(clone(self.estimator).fit(X, above))
        self.classes_ = np.array(self.order)
        self.oof_probabilities_ = _class_probabilities(np.column_stack(cumulative))
        return self

    def predict_proba(self, X) -> np.ndarray:
        cumulative = np.column_stack([model.predict_proba(X)[:, 1] for model in self.estimators_])
        return _class_probabilities(cumulative)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def forget_training(self) -> OrdinalClassifier:
        """Drop the out-of-fold probabilities: they describe training, not the model."""
        self.__dict__.pop("oof_probabilities_", None)
        return self


def _class_probabilities(cumulative: np.ndarray) -> np.ndarray:
    """P(class k) = P(at least k) - P(at least k+1), with the cumulative made non-increasing."""
    at_least = np.minimum.accumulate(cumulative, axis=1)
    ones = np.ones((len(at_least), 1))
    zeros = np.zeros((len(at_least), 1))
    bounds = np.hstack([ones, at_least, zeros])
    return bounds[:, :-1] - bounds[:, 1:]
