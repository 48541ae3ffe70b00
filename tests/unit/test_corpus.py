"""The labeled corpus meets its contract: size, languages, topics, urgency, diversity, splits."""

from __future__ import annotations

from collections import Counter

import pytest

from classifiers.corpus import TOPICS, load_corpus, near_duplicates, problems
from tests.conftest import CORPUS

RECORDS = load_corpus(CORPUS)


def test_every_record_is_valid():
    """Labels, identifier formats and splits all follow the taxonomy."""
    assert [text for record in RECORDS for text in problems(record)] == []
    assert len({record.id for record in RECORDS}) == len(RECORDS)


def test_size_and_languages():
    """At least 3,600 records: 1,500 en, 1,000 ru (150 translit), 1,000 es, 100 in other languages."""
    languages = Counter(record.lang for record in RECORDS)
    translit = [r for r in RECORDS if r.lang == "ru" and not any("\u0400" <= c <= "\u04ff" for c in r.body)]
    assert len(RECORDS) >= 3600
    assert languages["en"] >= 1500 and languages["ru"] >= 1000 and languages["es"] >= 1000
    assert len(translit) >= 150
    assert sum(count for lang, count in languages.items() if lang not in {"en", "ru", "es"}) >= 100


@pytest.mark.parametrize("lang", ["en", "ru", "es"])
def test_topics_and_critical_share_per_language(lang):
    """Each topic has 50 examples in the language, and 8% or more of its mail is critical."""
    records = [record for record in RECORDS if record.lang == lang]
    topics = Counter(record.topic for record in records)
    assert min(topics[topic] for topic in TOPICS) >= 50, topics
    assert sum(record.urgency == "critical" for record in records) / len(records) >= 0.08


def test_no_two_examples_share_half_their_shingles():
    """The diversity rule: no pair shares 50% or more of its word 3-shingles."""
    assert near_duplicates(RECORDS) == []


def test_test_split_is_a_fifth_written_by_other_writers():
    """The test split is 20% or more of the corpus, by writers and personas absent from train."""
    test = [record for record in RECORDS if record.split == "test"]
    train = [record for record in RECORDS if record.split == "train"]
    assert len(test) >= 0.2 * len(RECORDS)
    assert not {r.writer for r in test} & {r.writer for r in train}
