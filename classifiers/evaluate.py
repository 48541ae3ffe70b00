"""Evaluation: the figures a desk needs to trust the routing, per language.

Accuracy, macro-F1 and per-class precision/recall/F1 for topic and urgency, critical
recall, and the expected calibration error of the confidences; confusion matrices as PNG
and everything in one HTML report.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


MAIN_LANGUAGES = ("en", "ru", "es")


@dataclass(frozen=True)
class Outcome:
    """One evaluated email: truth, prediction and the confidence given."""

    lang: str
    topic: str
    predicted_topic: str
    topic_confidence: float
    urgency: str
    predicted_urgency: str
    urgency_confidence: float
    predicted_lang: str = ""


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by size."""
    confidence = np.asarray(confidences)
    hits = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(hits[inside].mean() - confidence[inside].mean())
    return round(float(error), 4)


def scores(truth: list[str], predicted: list[str], confidences: list[float]) -> dict:
    """Accuracy, macro-F1, ECE and per-class figures for one target."""
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "ece": expected_calibration_error(confidences, [t == p for t, p in zip(truth, predicted)]),
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
    }


def report(outcomes: list[Outcome]) -> dict:
    """Figures overall and per language (en, ru, es, and the others together)."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups["all"].append(outcome)
        groups[outcome.lang if outcome.lang in MAIN_LANGUAGES else "other"].append(outcome)
    result = {}
    for name, items in groups.items():
        urgency = scores([o.urgency for o in items], [o.predicted_urgency for o in items],
                         [o.urgency_confidence for o in items])
        critical = [o for o in items if o.urgency == "critical"]
        urgency["critical_recall"] = (round(sum(o.predicted_urgency == "critical" for o in critical) / len(critical), 4)
                                      if critical else None)
        result[name] = {
            "language_accuracy": round(sum(o.predicted_lang == o.lang for o in items) / len(items), 4),
            "topic": scores([o.topic for o in items], [o.predicted_topic for o in items],
                            [o.topic_confidence for o in items]),
            "urgency": urgency,
        }
    return result


def summary_lines(figures: dict) -> list[str]:
    """The report as short text lines for a terminal."""
    lines = []
    for name in ("all", *MAIN_LANGUAGES, "other"):
        if name not in figures:
            continue
        topic, urgency = figures[name]["topic"], figures[name]["urgency"]
        lines.append(
            f"{name:5} n={topic['n']:4}  language {figures[name]['language_accuracy']:.3f}  topic acc {topic['accuracy']:.3f} macro-F1 {topic['macro_f1']:.3f} "
            f"ECE {topic['ece']:.3f}  |  urgency acc {urgency['accuracy']:.3f} macro-F1 {urgency['macro_f1']:.3f} "
            f"critical recall {urgency['critical_recall'] if urgency['critical_recall'] is not None else '-'}")
    return lines


def write_confusion_png(truth: list[str], predicted: list[str], title: str, path: Path) -> None:
    """A labelled confusion matrix image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=labels)
    size = max(4.0, 0.55 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for row in range(len(labels)):
        for column in range(len(labels)):
            if matrix[row, column]:
                axes.text(column, row, str(matrix[row, column]), ha="center", va="center",
                          color="white" if matrix[row, column] > matrix.max() / 2 else "black", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(outcomes: list[Outcome], figures: dict, folder: Path, model_version: str) -> Path:
    """Confusion matrices (PNG) and an HTML report in ``folder``; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    write_confusion_png([o.topic for o in outcomes], [o.predicted_topic for o in outcomes],
                        "topic", folder / "confusion_topic.png")
    write_confusion_png([o.urgency for o in outcomes], [o.predicted_urgency for o in outcomes],
                        "urgency", folder / "confusion_urgency.png")
    rows = []
    for group, targets in figures.items():
        for target in ("topic", "urgency"):
            values = targets[target]
            for label, cell in values["per_class"].items():
                rows.append(f"<tr><td>{html.escape(group)}</td><td>{target}</td><td>{html.escape(label)}</td>"
                            f"<td>{cell['precision']:.3f}</td><td>{cell['recall']:.3f}</td>"
                            f"<td>{cell['f1']:.3f}</td><td>{cell['support']}</td></tr>")
    summary = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in summary_lines(figures))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Evaluation {html.escape(model_version)}"
            f"</title></head><body><h1>Evaluation of model {html.escape(model_version)}</h1><ul>{summary}</ul>"
            "<h2>Confusion matrices</h2><img src='confusion_topic.png' alt='topic confusion matrix'>"
            "<img src='confusion_urgency.png' alt='urgency confusion matrix'><h2>Per class</h2>"
            "<table border='1' cellpadding='3'><tr><th>group</th><th>target</th><th>class</th><th>precision</th>"
            f"<th>recall</th><th>F1</th><th>support</th></tr>{''.join(rows)}</table></body></html>")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
