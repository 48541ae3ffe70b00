"""Evaluation arithmetic: calibration error and the per-language report."""

from __future__ import annotations

from classifiers.evaluate import Outcome, expected_calibration_error, report


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    """Confidence 0.75 on a bin where three of four are right is perfectly calibrated."""
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == 0.0


def test_calibration_error_measures_overconfidence():
    """Always 0.9 sure and right half the time: the error is 0.4."""
    assert expected_calibration_error([0.9] * 10, [True, False] * 5) == 0.4


def test_report_groups_by_language_and_counts_critical_recall():
    """Figures come per language and overall; critical recall counts critical mail flagged critical."""
    outcomes = [
        Outcome("ru", "funding", "funding", 0.9, "critical", "critical", 0.8, "ru"),
        Outcome("ru", "margin", "fees", 0.6, "critical", "high", 0.5, "ru"),
        Outcome("de", "fees", "fees", 0.7, "low", "low", 0.9, "de"),
    ]
    figures = report(outcomes)
    assert set(figures) == {"all", "ru", "other"}
    assert figures["ru"]["urgency"]["critical_recall"] == 0.5
    assert figures["other"]["urgency"]["critical_recall"] is None
    assert figures["all"]["topic"]["accuracy"] == round(2 / 3, 4)
