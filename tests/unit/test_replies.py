"""Reply templates: all render in every language, ask for what is missing, and never run client text."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.corpus import TOPICS
from triage.extract.identifiers import Identifiers
from triage.replies import REPLY_LANGUAGES, TemplateLibrary, reply_values

ROOT = Path(__file__).resolve().parents[2] / "templates"
LIBRARY = TemplateLibrary(ROOT)
FULL = Identifiers(account_ids=("U1234567", "U7654321"), order_ids=("123456789",),
                   execution_ids=("0000e0d5.6553a1b2.01.01",), transaction_ids=("88341207",))
NAMES = {"en": "Mary Watson", "ru": "Иван Петров", "es": "María López"}


def test_every_topic_has_a_template_in_each_reply_language():
    """en, ru and es each cover all 14 topics, and variants exist in all three alike."""
    for language in REPLY_LANGUAGES:
        assert {t.topic for t in LIBRARY.templates if t.language == language} == set(TOPICS)
    variants = {language: {(t.topic, t.variant) for t in LIBRARY.templates if t.language == language}
                for language in REPLY_LANGUAGES}
    assert variants["en"] == variants["ru"] == variants["es"]


@pytest.mark.parametrize("template", LIBRARY.templates, ids=lambda t: t.id)
def test_template_renders_with_and_without_identifiers(template):
    """With every value, and with none (no name, no ids), the reply renders without holes."""
    full = LIBRARY.render(template, reply_values(NAMES[template.language], template.language, "CS-0001", FULL))
    empty = LIBRARY.render(template, reply_values("", template.language, "CS-0002", Identifiers()))
    assert "CS-0001" in full.subject and "CS-0002" in empty.subject
    for reply in (full, empty):
        assert "None" not in reply.body and "{{" not in reply.body and "[]" not in reply.body
    if "account_id" in template.required:
        # Without the account the reply must ask for it, so it reads differently.
        assert "U1234567" not in empty.body
        with_account = LIBRARY.render(template, reply_values("", template.language, "CS-0002",
                                                             Identifiers(account_ids=("U1234567",))))
        assert with_account.body != empty.body


@pytest.mark.parametrize("template", [t for t in LIBRARY.templates if t.variant], ids=lambda t: t.id)
def test_each_variant_is_chosen_for_its_own_examples(template):
    """The similarity model sends a template's own example requests to that template."""
    chosen = [LIBRARY.choose(template.language, template.topic, example).id for example in template.examples]
    assert chosen.count(template.id) >= len(chosen) * 0.8, chosen


def test_client_text_is_never_evaluated_as_a_template():
    """Jinja syntax in the client's name, subject or text shows literally or not at all; nothing runs."""
    hostile = "{{ 7*7 }} {% for x in range(10**9) %}x{% endfor %}"
    template = LIBRARY.choose("en", "funding", hostile)
    reply = LIBRARY.render(template, reply_values(hostile, "en", "CS-0003", Identifiers()))
    assert "49" not in reply.body
    assert "{{ 7*7 }}" in reply.body or hostile not in reply.body
