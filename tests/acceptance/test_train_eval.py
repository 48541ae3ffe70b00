"""``triage train`` and ``triage eval`` as a desk runs them on its own labeled history."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from classifiers.artifacts import active_version
from classifiers.corpus import load_corpus
from tests.commands import run_triage

ROOT = Path(__file__).resolve().parents[2]


def desk_history(tmp_path: Path, per_language: int, languages: tuple[str, ...] = ("en", "ru", "es")) -> Path:
    """A desk's labeled history as CSV, taken from the corpus (train rows, then test rows)."""
    records = load_corpus(ROOT / "fixtures" / "corpus")
    chosen = [r for lang in languages for r in [x for x in records if x.lang == lang][:per_language]]
    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "split", "lang", "subject", "body", "topic", "urgency"])
        writer.writeheader()
        for number, record in enumerate(chosen):
            writer.writerow({"id": record.id, "split": "test" if number % 5 == 0 else "train", "lang": record.lang,
                             "subject": record.subject, "body": record.body, "topic": record.topic,
                             "urgency": record.urgency})
    return path


def test_train_on_a_desk_csv_then_eval_writes_figures_and_report(tmp_path):
    """Training on a CSV activates a model with a card; eval prints figures and writes PNGs and HTML."""
    data = desk_history(tmp_path, per_language=120)
    trained = run_triage("train", "--data", str(data), "--models", str(tmp_path / "models"), cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr.decode()
    version = active_version(tmp_path / "models")
    card = json.loads((tmp_path / "models" / version / "card.json").read_text())
    assert card["version"] == version and card["training_examples"] > 0
    assert set(card["test_split_metrics"]["all"]) == {"language_accuracy", "topic", "urgency"}
    evaluated = run_triage("eval", "--data", str(data), "--models", str(tmp_path / "models"),
                           "--report", str(tmp_path / "reports"), cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr.decode()
    assert b"macro-F1" in evaluated.stdout and b"critical recall" in evaluated.stdout
    report = tmp_path / "reports" / version
    assert (report / "confusion_topic.png").read_bytes().startswith(b"\x89PNG")
    assert (report / "confusion_urgency.png").read_bytes().startswith(b"\x89PNG")
    assert "Evaluation of model" in (report / "report.html").read_text()


def test_training_twice_on_the_same_data_gives_the_same_version(tmp_path):
    """The version is a fingerprint of data, settings and libraries: retraining reproduces it."""
    data = desk_history(tmp_path, per_language=60)
    versions = []
    for run in ("a", "b"):
        result = run_triage("train", "--data", str(data), "--models", str(tmp_path / run), cwd=tmp_path)
        assert result.returncode == 0, result.stderr.decode()
        versions.append(active_version(tmp_path / run))
    assert versions[0] == versions[1]
    first = (tmp_path / "a" / versions[0] / "card.json").read_text()
    assert first == (tmp_path / "b" / versions[1] / "card.json").read_text()


def test_bad_labels_are_refused_with_the_line(tmp_path):
    """A topic outside the taxonomy stops training with the file and line named."""
    data = tmp_path / "bad.csv"
    data.write_text("lang,subject,body,topic,urgency\nen,hi,where is my money,money,high\n", encoding="utf-8")
    result = run_triage("train", "--data", str(data), "--models", str(tmp_path / "m"), cwd=tmp_path)
    assert result.returncode != 0
    assert b"bad.csv:2" in result.stderr and b"unknown topic 'money'" in result.stderr


def test_train_refuses_data_the_models_cannot_learn_from_and_says_why(tmp_path):
    """One language only, so no translit: a clear error, exit status 2, no model activated, no traceback."""
    data = desk_history(tmp_path, per_language=200, languages=("en",))
    trained = run_triage("train", "--data", str(data), "--models", str(tmp_path / "models"), cwd=tmp_path)
    error = trained.stderr.decode()
    assert trained.returncode == 2, error
    assert "cannot train on this data" in error and "Russian written in Latin letters" in error
    assert "Traceback" not in error
    assert active_version(tmp_path / "models") is None
