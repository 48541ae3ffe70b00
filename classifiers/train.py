"""Training: examples in, a fitted ``ModelBundle`` out, reproducibly.

Examples arrive as model texts already produced by the service's own parser (this
package never parses mail).  The same examples and settings give the same version.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
import json
import platform
import re
from pathlib import Path
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy
import sklearn

from classifiers.bundle import ModelBundle
from classifiers.calibration import FOLDS, TemperatureScaled
from classifiers.models import (DEFAULT, URGENCY_ORDER, build_classifier, build_features, build_urgency_model, slim,
                                urgency_matrix)
from classifiers.translit import CYRILLIC, build_translit_model, translit_text

TARGET_CRITICAL_RECALL = 0.95
# Out-of-fold probabilities come from stratified cross-validation: every class needs an
# example in each fold.
MIN_PER_CLASS = FOLDS
MODEL_FORMAT = 1


@dataclass(frozen=True)
class Example:
    """One labeled email as the model sees it."""

    id: str
    text: str
    plain: str
    lang: str
    topic: str
    urgency: str


def fingerprint(examples: list[Example], classifier: str) -> str:
    """Hash of the data, the settings and the library versions: equal inputs, equal version."""
    digest = hashlib.sha256()
    for example in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps([example.id, example.text, example.lang, example.topic, example.urgency],
                                 ensure_ascii=False).encode())
    digest.update(json.dumps([classifier, MODEL_FORMAT, library_versions()]).encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        # The code that builds the model is part of what the version names.
        digest.update(source.read_bytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "skops": metadata.version("skops")}


class TrainingDataError(ValueError):
    """Raised when labeled data cannot train the models; the message says what is missing."""


def check_training_data(examples: list[Example]) -> None:
    """Refuse data the models cannot learn from, in the data's own terms, before any fitting:
    scikit-learn would stop midway with a message about solvers and classes."""
    problems = []
    topics, urgencies = Counter(e.topic for e in examples), Counter(e.urgency for e in examples)
    if len(topics) < 2:
        problems.append(f"at least two topics are needed, the data has {sorted(topics) or 'none'}")
    few = sorted(topic for topic, count in topics.items() if count < MIN_PER_CLASS)
    if few:
        problems.append(f"each topic needs at least {MIN_PER_CLASS} examples: {', '.join(few)} have fewer")
    short = [level for level in URGENCY_ORDER if urgencies[level] < MIN_PER_CLASS]
    if short:
        problems.append(f"each urgency needs at least {MIN_PER_CLASS} examples: {', '.join(short)} have fewer")
    latin = Counter(example.lang == "ru" for example in examples if _latin_script(example))
    if not latin[True] or not latin[False]:
        problems.append("the translit detector needs Russian written in Latin letters and Latin-script mail in "
                        "other languages; the data lacks " + ("the first" if not latin[True] else "the second"))
    if problems:
        raise TrainingDataError("cannot train on this data: " + "; ".join(problems))


def train_bundle(examples: list[Example], classifier: str = DEFAULT,
                 progress: Callable[[str], None] = lambda step: None) -> ModelBundle:
    """Fit features, topic and urgency models, the critical threshold and the translit detector."""
    check_training_data(examples)
    texts = [example.text for example in examples]
    progress("features")
    features = build_features()
    matrix = features.fit_transform(texts)
    progress("topic")
    topic = TemperatureScaled(build_classifier(classifier)).fit(matrix, [e.topic for e in examples])
    progress("urgency")
    urgencies = [e.urgency for e in examples]
    urgency = build_urgency_model().fit(urgency_matrix(matrix, topic.oof_probabilities_), urgencies)
    progress("critical threshold")
    threshold = critical_threshold(urgency.classes_, urgency.oof_probabilities_, urgencies)
    progress("translit")
    translit = train_translit(examples)
    digest = fingerprint(examples, classifier)
    card = {
        "version": f"m-{digest[:12]}",
        "data_fingerprint": digest,
        "classifier": classifier,
        "critical_threshold": threshold,
        "training_examples": len(examples),
        "by_language": dict(Counter(e.lang for e in examples)),
        "by_topic": dict(Counter(e.topic for e in examples)),
        "by_urgency": dict(Counter(urgencies)),
        "libraries": library_versions(),
        "alternatives_compared": _selection(),
        "features": "TF-IDF word 1-2-grams + character 3-4-grams within words + urgency cues of the masked "
                    "subject and new text; urgency also reads the topic model's out-of-fold probabilities",
        "topic_model": f"{classifier}, temperature-scaled",
        "urgency_model": "ordinal: one balanced logistic regression per cut low < normal < high < critical",
    }
    card["temperature"] = {"topic": round(topic.temperature_, 4)}
    return ModelBundle(version=card["version"], features=slim(features), topic=topic.forget_training(),
                       urgency=urgency.forget_training(),
                       translit=translit, critical_threshold=threshold, card=card)


def critical_threshold(classes, probabilities: np.ndarray, urgencies: list[str]) -> float:
    """Highest threshold on P(critical) whose out-of-fold critical recall reaches the target.

    Chosen on the training data alone, from calibrated out-of-fold probabilities.
    """
    critical = probabilities[:, list(classes).index("critical")]
    is_critical = np.array([u == "critical" for u in urgencies])
    for threshold in np.arange(0.50, 0.02, -0.01):
        if (critical[is_critical] >= threshold).mean() >= TARGET_CRITICAL_RECALL:
            return round(float(threshold), 2)
    return 0.02


def train_translit(examples: list[Example]):
    """The translit detector, fitted on the Latin-script examples: Russian or not."""
    texts, labels = [], []
    for example in examples:
        if not _latin_script(example):
            continue
        texts.append(translit_text(example.plain))
        labels.append(int(example.lang == "ru"))
    return build_translit_model().fit(texts, labels)


def _latin_script(example: Example) -> bool:
    """Mail the translit detector learns from: Latin letters, no Cyrillic, not Chinese."""
    return not (CYRILLIC.search(example.plain) or example.lang == "zh" or not re.search(r"[a-zA-Z]", example.plain))


def _selection() -> list[dict]:
    """The comparison of alternatives (bench/model_selection.py) the choice was made on."""
    path = Path(__file__).with_name("selection.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
