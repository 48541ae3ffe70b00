"""Labeled data that cannot train the models is refused before fitting, with what is missing."""

from __future__ import annotations

import pytest

from classifiers.train import Example, TrainingDataError, check_training_data


def example(number: int, topic: str, urgency: str, lang: str = "en", text: str = "where is my withdrawal") -> Example:
    return Example(id=str(number), text=text, plain=text, lang=lang, topic=topic, urgency=urgency)


def enough() -> list[Example]:
    """Three of every urgency over two topics, English and Russian in Latin letters."""
    levels = ("low", "normal", "high", "critical")
    return ([example(n, ("funding", "platform")[n % 2], levels[n % 4]) for n in range(12)]
            + [example(100 + n, "funding", "normal", "ru", "gde moi dengi") for n in range(3)])


def test_enough_data_passes():
    check_training_data(enough())


@pytest.mark.parametrize(("drop", "said"), [
    (lambda e: e.topic == "platform", "at least two topics"),
    (lambda e: e.urgency == "critical", "critical"),
    (lambda e: e.lang == "ru", "Russian written in Latin letters"),
])
def test_missing_classes_are_named(drop, said):
    with pytest.raises(TrainingDataError, match=said):
        check_training_data([e for e in enough() if not drop(e)])
