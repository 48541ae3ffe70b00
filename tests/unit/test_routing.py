"""Routing: the shipped table is TAXONOMY.md's; rules are ordered, checked on load, and say why."""

from __future__ import annotations

import pytest

from classifiers.corpus import TOPICS
from triage.errors import ConfigError
from triage.routing import Facts, load_rules, route

DEFAULT_TEAMS = {"funding": "cashiering", "position_transfer": "clearing", "settlement": "clearing",
                 "exercise_expiration": "clearing", "corporate_actions": "clearing", "compliance": "compliance",
                 "platform": "programming"}
DESKS = {"en": "cs-en", "ru": "cs-ru", "es": "cs-es", "de": "cs-en", "zh": "cs-en"}


def facts(topic="fees", urgency="normal", language="en", sender="c@example.com", has=(), auto_reply=False):
    return Facts(topic, urgency, language, sender, frozenset(has), auto_reply)


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("language", sorted(DESKS))
def test_default_table_follows_the_taxonomy(topic, language):
    """Every topic in every language goes where TAXONOMY.md's table sends it."""
    expected = DEFAULT_TEAMS.get(topic, DESKS[language])
    assert route(facts(topic=topic, language=language), load_rules()).team == expected


def test_auto_replies_go_to_no_reply_whatever_the_topic():
    """Automatic mail is routed to the no-reply queue and the reason names the rule."""
    result = route(facts(topic="funding", auto_reply=True), load_rules())
    assert result.team == "no-reply" and "automatic" in result.reason


def write(tmp_path, text):
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_first_matching_rule_wins_and_conditions_combine(tmp_path):
    """Ordered rules on urgency, sender domain and identifiers present: the first match decides."""
    rules = load_rules(write(tmp_path, """
teams = ["vip", "urgent-clearing", "cs-en"]
[[rule]]
name = "vip domain"
when = { sender = ["@fund.example"] }
team = "vip"
[[rule]]
name = "critical with an order"
when = { urgency = ["critical"], has = ["order_ids"] }
team = "urgent-clearing"
[[rule]]
name = "rest"
team = "cs-en"
"""))
    assert route(facts(sender="pm@fund.example", urgency="critical", has=["order_ids"]), rules).rule == "vip domain"
    assert route(facts(urgency="critical", has=["order_ids"]), rules).team == "urgent-clearing"
    assert route(facts(urgency="critical"), rules).team == "cs-en"


@pytest.mark.parametrize(("body", "message"), [
    ('teams = ["a"]\n[[rule]]\nname = "x"\nwhen = { topic = ["money"] }\nteam = "a"\n', ":2: unknown topic money"),
    ('teams = ["a"]\n[[rule]]\nname = "x"\nteam = "a"\n[[rule]]\nname = "y"\nteam = "b"\n', ":5: rule 'y' names unknown team"),
    ('teams = ["a"]\n[[rule]]\nname = "x"\nwhen = { colour = ["red"] }\nteam = "a"\n', ":2: unknown field(s) colour"),
    ('teams = ["a"]\n[[rule]\nname = "x"\n', "routing.toml: "),
])
def test_bad_rules_refuse_to_load_naming_file_and_line(tmp_path, body, message):
    """An unknown topic or team, a bad field or a syntax error names the file and the rule's line."""
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rules(path)
