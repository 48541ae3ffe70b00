"""Model artifacts on disk: skops files (no pickle), a JSON model card, an ACTIVE pointer.

Layout under the models folder::

    <version>/model.skops   the fitted bundle parts, loaded with an explicit trusted list
    <version>/card.json     version, data fingerprint, library versions, metrics
    ACTIVE                  the version workers load

A file holding any type outside ``TRUSTED_TYPES`` is refused: skops never builds
objects it was not told to trust.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from classifiers.bundle import ModelBundle

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
ACTIVE_FILE = "ACTIVE"
TRUSTED_TYPES = frozenset({
    "builtins.dict", "builtins.list", "builtins.str", "builtins.float", "builtins.int", "builtins.tuple",
    "numpy.dtype", "numpy.ndarray", "numpy.float64", "numpy.int64", "numpy.int32", "numpy.float32",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer", "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.pipeline.FeatureUnion", "sklearn.pipeline.Pipeline",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.svm._classes.LinearSVC", "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.naive_bayes.ComplementNB", "sklearn.utils._bunch.Bunch",
    "sklearn.preprocessing._label.LabelEncoder", "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.linear_model._sgd_fast.Hinge", "sklearn.linear_model._sgd_fast.ModifiedHuber",
    "sklearn._loss.loss.CyHalfBinomialLoss", "sklearn._loss.link.IdentityLink",
    "classifiers.text.char_grams", "classifiers.vectorize.CharGramTfidf", "classifiers.cues.UrgencyCues", "classifiers.calibration.TemperatureScaled",
    "classifiers.ordinal.OrdinalClassifier",
})


class UntrustedArtifact(Exception):
    """Raised when a model file holds a type this project does not trust."""


def save_bundle(bundle: ModelBundle, models_dir: Path, activate: bool = True) -> Path:
    """Write the bundle under ``models_dir/<version>/`` and, by default, make it active."""
    folder = Path(models_dir) / bundle.version
    folder.mkdir(parents=True, exist_ok=True)
    from skops.io import dump  # skops takes seconds to import: only where it is used

    parts = {"features": bundle.features, "topic": bundle.topic, "urgency": bundle.urgency,
             "translit": bundle.translit}
    # The schema skops writes is verbose JSON; deflate brings it to a fraction.
    dump(parts, folder / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    card = {**bundle.card, "critical_threshold": bundle.critical_threshold}
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if activate:
        activate_version(models_dir, bundle.version)
    return folder


def activate_version(models_dir: Path, version: str) -> None:
    """Point ACTIVE at ``version``; atomic, so a worker never reads half a name."""
    pointer = Path(models_dir) / ACTIVE_FILE
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, pointer)


def active_version(models_dir: Path) -> str | None:
    """The version ACTIVE names, or None when no model was trained yet."""
    pointer = Path(models_dir) / ACTIVE_FILE
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None


def load_bundle(models_dir: Path, version: str | None = None) -> ModelBundle:
    """Load a version (default: the active one), refusing any type outside the trusted list."""
    version = version or active_version(models_dir)
    if version is None:
        raise FileNotFoundError(f"no trained model in {models_dir}: run `triage train`")
    from skops.io import get_untrusted_types, load

    folder = Path(models_dir) / version
    untrusted = [name for name in get_untrusted_types(file=folder / MODEL_FILE) if name not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedArtifact(f"{folder / MODEL_FILE} holds types not on the trusted list: {untrusted}")
    parts = load(folder / MODEL_FILE, trusted=sorted(get_untrusted_types(file=folder / MODEL_FILE)))
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    return ModelBundle(version=version, features=parts["features"], topic=parts["topic"],
                       urgency=parts["urgency"], translit=parts["translit"],
                       critical_threshold=card["critical_threshold"], card=card)
