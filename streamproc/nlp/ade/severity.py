"""Severity and seriousness of an adverse effect from the rule file ``severity.yaml``.

Rules are data so pharmacovigilance staff can extend them without code; the "always high" events
(anaphylaxis, SJS/TEN, agranulocytosis, angioedema, torsades, ...) are plain regexes there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import yaml

Severity = Literal["high", "moderate", "low"]
_RANK = {"high": 3, "moderate": 2, "low": 1}
DEFAULT_RULES = Path(__file__).with_name("severity.yaml")


@dataclass(frozen=True)
class SeverityRule:
    name: str
    severity: Severity
    serious: bool
    patterns: tuple[re.Pattern[str], ...]
    scope: Literal["effect", "sentence"] = "effect"


@dataclass(frozen=True)
class Grade:
    severity: Severity
    serious: bool
    rule: str | None


# "not hospitalized", "no ICU stay", "did not require intubation": an outcome denied
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|never|without|nor)\b(?:[ \t]+[\w-]+){0,2}[ \t]*$", re.I)


def _said(pattern: re.Pattern[str], text: str, denied_counts: bool) -> bool:
    """Whether ``pattern`` is in ``text``; in a sentence (``denied_counts``), not where a
    negation a few words before denies it ("not hospitalized; treated with …")."""
    return any(
        not (denied_counts and _NEGATED_BEFORE.search(text, max(0, m.start() - 40), m.start()))
        for m in pattern.finditer(text)
    )


class SeverityRules:
    def __init__(self, rules: list[SeverityRule], default: Grade, version: str = "") -> None:
        self.rules = sorted(rules, key=lambda r: -_RANK[r.severity])
        self.default = default
        self.version = version

    @classmethod
    def load(cls, path: Path | None = None) -> SeverityRules:
        data = yaml.safe_load((path or DEFAULT_RULES).read_text(encoding="utf-8")) or {}
        default = data.get("default", {})
        rules = []
        for raw in data.get("rules", []):
            sev = raw.get("severity", "moderate")
            if sev not in _RANK:
                raise ValueError(f"severity rule {raw.get('name')}: unknown severity {sev}")
            rules.append(
                SeverityRule(
                    name=str(raw["name"]),
                    severity=cast(Severity, sev),
                    serious=bool(raw.get("serious", False)),
                    patterns=tuple(re.compile(p, re.I) for p in raw.get("patterns", [])),
                    scope="sentence" if raw.get("scope") == "sentence" else "effect",
                )
            )
        return cls(
            rules,
            Grade(
                cast(Severity, default.get("severity", "moderate")),
                bool(default.get("serious", False)),
                None,
            ),
            str(data.get("version", "")),
        )

    def grade(self, effect: str, sentence: str = "") -> Grade:
        """The highest-severity matching rule; ``serious`` is true if any matching rule says so."""
        hit: SeverityRule | None = None
        serious = False
        for rule in self.rules:
            target = sentence if rule.scope == "sentence" else effect
            if target and any(_said(p, target, rule.scope == "sentence") for p in rule.patterns):
                hit = hit or rule
                serious = serious or rule.serious
        if hit is None:
            return self.default
        return Grade(hit.severity, serious or hit.serious, hit.name)
