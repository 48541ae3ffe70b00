"""Temperature scaling: one number that makes a linear model's confidences honest.

Balanced logistic regression over thousands of sparse features spreads its probability
too thin (a right answer at 0.45 confidence).  Dividing the decision scores by a
temperature fitted on out-of-fold scores keeps the ranking, so accuracy is unchanged,
and makes the confidence match the accuracy: ``needs_review`` and the critical threshold
depend on that.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

SEED = 20261124
FOLDS = 3  # out-of-fold scores: stratified 3-fold cross-validation


class TemperatureScaled(BaseEstimator, ClassifierMixin):
    """Wraps a classifier with ``decision_function``; ``predict_proba`` is softmax(scores / T).

    After ``fit``, ``oof_probabilities_`` holds calibrated out-of-fold probabilities of the
    training rows (for stacking and thresholds); ``forget_training()`` drops them.
    """

    def __init__(self, estimator, folds: int = FOLDS, n_jobs: int = 2):
        self.estimator = estimator
        self.folds = folds
        self.n_jobs = n_jobs

    def fit(self, X, y):
        labels = np.asarray(y)
        splitter = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=SEED)
        scores = cross_val_predict(clone(self.estimator), X, labels, cv=splitter,
                                   method="decision_function", n_jobs=self.n_jobs)
        self.estimator_ = clone(self.estimator).fit(X, labels)
        self.classes_ = self.estimator_.classes_
        target = np.searchsorted(self.classes_, labels)

        def loss(temperature: float) -> float:
            return -log_softmax(scores / temperature, axis=1)[np.arange(len(target)), target].mean()

        self.temperature_ = float(minimize_scalar(loss, bounds=(0.02, 50.0), method="bounded").x)
        self.oof_probabilities_ = softmax(scores / self.temperature_, axis=1)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self.estimator_.decision_function(X) / self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def forget_training(self) -> TemperatureScaled:
        """Drop the out-of-fold probabilities: they describe training, not the model."""
        self.__dict__.pop("oof_probabilities_", None)
        return self
