"""Model artifacts: skops files load only with the trusted list; the card describes the model."""

from __future__ import annotations

import json
import shutil

import pytest
from skops.io import dump

from classifiers.artifacts import ACTIVE_FILE, CARD_FILE, MODEL_FILE, UntrustedArtifact, load_bundle


def test_card_names_version_data_libraries_and_metrics(trained_models):
    """The card says which data, which libraries and what the test split scored."""
    version = (trained_models / ACTIVE_FILE).read_text().strip()
    card = json.loads((trained_models / version / CARD_FILE).read_text())
    assert card["version"] == version and version.endswith(card["data_fingerprint"][:12])
    assert {"scikit-learn", "numpy", "skops", "python"} <= set(card["libraries"])
    assert card["test_split_metrics"]["all"]["topic"]["n"] > 0


def test_artifact_with_an_untrusted_type_is_refused(trained_models, tmp_path):
    """A model file that smuggles in a type outside the trusted list is never loaded."""
    version = (trained_models / ACTIVE_FILE).read_text().strip()
    tampered = tmp_path / version
    shutil.copytree(trained_models / version, tampered)
    (tmp_path / ACTIVE_FILE).write_text(version)
    dump({"features": shutil.copy, "topic": None, "urgency": None, "translit": None}, tampered / MODEL_FILE)
    with pytest.raises(UntrustedArtifact, match="not on the trusted list"):
        load_bundle(tmp_path)


def test_loaded_model_predicts_taxonomy_labels(model):
    """A loaded bundle predicts a topic and urgency from the taxonomy with probabilities summing to one."""
    (prediction,) = model.predict(["my wire transfer of _num_ usd has not been credited to _account_"])
    assert abs(sum(prediction.topic_probabilities.values()) - 1) < 1e-3
    assert prediction.topic == max(prediction.topic_probabilities, key=prediction.topic_probabilities.get)
    assert prediction.model_version == model.version
