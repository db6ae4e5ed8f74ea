"""The code map in docs/architecture.md stays true: every rule it points at exists where it
says, and every file its walk-through names is there."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()


def _section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start:end if end != -1 else None]


RULES = re.findall(r"^\| ([^|]+?) \| `([\w.]+)` \| `([\w.]+)` \|$",
                   _section("Where rule X lives"), flags=re.M)


def test_the_rules_table_answers_the_newcomers_questions() -> None:
    asked = {"who may approve", "restocking fee", "when the customer is emailed",
             "when an approved return expires", "final-sale", "where a Stripe event is verified"}
    rules = " / ".join(rule for rule, _, _ in RULES)
    assert all(question in rules for question in asked), rules


@pytest.mark.parametrize(("rule", "module", "symbol"), RULES, ids=[r for r, _, _ in RULES])
def test_each_rule_lives_where_the_map_says(rule: str, module: str, symbol: str) -> None:
    found: object = importlib.import_module(module)
    for part in symbol.split("."):
        found = getattr(found, part)  # AttributeError names what moved
    assert found is not None


def test_every_file_the_walk_through_names_exists() -> None:
    paths = set(re.findall(r"`((?:returns_service|workflows|webhooks)/[\w/]+\.py)`",
                           _section("One return, from the form to the refund")))
    assert len(paths) >= 10
    assert [p for p in sorted(paths) if not (ROOT / p).is_file()] == []


def test_every_package_of_the_service_is_on_the_map() -> None:
    packages = {p.name for p in (ROOT / "returns_service").iterdir()
                if (p / "__init__.py").is_file()}
    house = _section("The house")
    assert [p for p in sorted(packages) if f"{p}/" not in house] == []
