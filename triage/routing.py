"""Routing: ordered rules from a TOML file; the first match names the team and why.

Routing is configuration, not code: a deployment changes the table and adds rules by
topic, urgency, language, sender, identifiers present or auto-reply.  The file is
checked when loaded; a mistake refuses to start and names the file and line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from classifiers.corpus import TOPICS, URGENCIES
from triage.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("routing.toml")
FIELDS = {"topic", "urgency", "language", "sender", "has", "auto_reply"}
IDENTIFIER_KINDS = {"account_ids", "order_ids", "execution_ids", "transaction_ids"}


@dataclass(frozen=True)
class Rule:
    """One rule: a name, the conditions, the team."""

    name: str
    team: str
    topic: frozenset[str] | None = None
    urgency: frozenset[str] | None = None
    language: frozenset[str] | None = None
    sender: frozenset[str] | None = None
    has: frozenset[str] | None = None
    auto_reply: bool | None = None


@dataclass(frozen=True)
class Facts:
    """What routing may look at about one email."""

    topic: str
    urgency: str
    language: str
    sender: str
    identifiers: frozenset[str]
    auto_reply: bool


@dataclass(frozen=True)
class Route:
    """The team, and the rule that sent it there."""

    team: str
    rule: str

    @property
    def reason(self) -> str:
        return f"rule '{self.rule}'"


def route(facts: Facts, rules: tuple[Rule, ...]) -> Route:
    """The first rule that matches; the file's last rule should match everything."""
    for rule in rules:
        if _matches(rule, facts):
            return Route(team=rule.team, rule=rule.name)
    raise ConfigError("no routing rule matched; the last rule should have no `when`")


def _matches(rule: Rule, facts: Facts) -> bool:
    domain = "@" + facts.sender.rpartition("@")[2]
    return all((
        rule.topic is None or facts.topic in rule.topic,
        rule.urgency is None or facts.urgency in rule.urgency,
        rule.language is None or facts.language in rule.language,
        rule.sender is None or facts.sender in rule.sender or domain in rule.sender,
        rule.has is None or rule.has <= facts.identifiers,
        rule.auto_reply is None or rule.auto_reply == facts.auto_reply,
    ))


def load_rules(path: Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    """Read and check a rules file; any mistake raises ConfigError naming the file and line."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    teams = data.get("teams")
    if not isinstance(teams, list) or not teams:
        raise ConfigError(f"{path}: `teams` must list the teams rules may name")
    lines = [number for number, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[rule\]\]", line)]
    rules = tuple(_rule(entry, set(teams), f"{path}:{line}") for entry, line in zip(data.get("rule", []), lines))
    if not rules:
        raise ConfigError(f"{path}: no [[rule]] tables")
    return rules


def _rule(entry: dict, teams: set[str], where: str) -> Rule:
    name, team, when = entry.get("name"), entry.get("team"), entry.get("when", {})
    unknown = set(entry) - {"name", "team", "when"} | set(when) - FIELDS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: every rule needs a name")
    if team not in teams:
        raise ConfigError(f"{where}: rule '{name}' names unknown team {team!r} (teams: {', '.join(sorted(teams))})")
    checks = {"topic": set(TOPICS), "urgency": set(URGENCIES), "has": IDENTIFIER_KINDS}
    values = {}
    for field in FIELDS - {"auto_reply"}:
        if field in when:
            value = when[field]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{where}: `{field}` must be a list of strings")
            bad = set(value) - checks[field] if field in checks else set()
            if bad:
                raise ConfigError(f"{where}: unknown {field} {', '.join(sorted(bad))}")
            values[field] = frozenset(item.lower() if field == "sender" else item for item in value)
    if "auto_reply" in when and not isinstance(when["auto_reply"], bool):
        raise ConfigError(f"{where}: `auto_reply` must be true or false")
    return Rule(name=name, team=team, auto_reply=when.get("auto_reply"), **values)
