"""The rule corpus checks itself: every rule's own examples, and lint over every rule."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.domain import CATEGORIES
from monitor.pipeline.rules import load_rules
from monitor.pipeline.rules.checks import FIRE_SCORE, fired, lint
from monitor.resources import rules_dir

RULES = load_rules([rules_dir()])
ACTIVE = [lr for lr in RULES if lr.rule.active]


@pytest.mark.parametrize("lr", ACTIVE, ids=[lr.rule.id for lr in ACTIVE])
def test_rule_examples(engine, lr) -> None:
    for text in lr.rule.examples.match:
        assert lr.rule.id in fired(engine, text), f"{lr.path}: should match: {text!r}"
    for text in lr.rule.examples.no_match:
        assert lr.rule.id not in fired(engine, text), f"{lr.path}: should not match: {text!r}"


def test_lint_has_no_errors_and_nothing_overdue() -> None:
    issues = lint(RULES)
    assert [str(i) for i in issues if i.level == "error"] == []
    assert [str(i) for i in issues if "overdue" in i.message] == []


def test_every_category_has_a_pack_with_metadata() -> None:
    seen = {lr.rule.category for lr in RULES if lr.rule.action == "flag"}
    assert seen == set(CATEGORIES)
    ids = [lr.rule.id for lr in RULES]
    assert len(ids) == len(set(ids))
    for lr in RULES:
        r = lr.rule
        assert r.owner and r.approved_by and r.policy_section.startswith("SMP §"), r.id
        assert date(2027, 1, 1) <= r.review_by <= date(2027, 12, 31), r.id
        assert r.falsepositives, r.id
        assert len(r.examples.match) >= 2 and len(r.examples.no_match) >= 2, r.id


def test_guidance_is_gentle_and_actionable() -> None:
    for lr in RULES:
        g = lr.rule.guidance.lower()
        if lr.rule.action != "flag":
            continue
        assert "consider" in g or "it might help" in g, lr.rule.id
        for harsh in ("violat", "you must", "prohibited", "illegal", "disciplin"):
            assert harsh not in g, (lr.rule.id, harsh)


@pytest.mark.parametrize(
    "text",
    [
        "I hate Mondays",
        "this product is killer",
        "We just launched the new app, try it today!",
        "Proud of the team: Northwind Labs 2.0 is out now, read the announcement",
        "Shipped the release notes, see https://northwind.example/blog",
        "my password is too long to remember lol",
        "Call me maybe? Best song of 2012",
        "The meeting moved to 10:30, room 4",
        "You killed it at the demo today!",
        "Our Q3 results were reported today, congrats everyone",
        "Globex makes solid tools, competition is good",
        "I'm not speaking for my employer, but I loved the keynote",
    ],
)
def test_ordinary_posts_are_not_flagged(engine, text) -> None:
    found = [f for f in engine.analyse(text).findings if f.score >= FIRE_SCORE and not f.shadow]
    assert found == [], [(f.source, f.spans) for f in found]


@pytest.mark.parametrize(
    "text, category",
    [
        ("Northwind underpays everyone and management are clowns", "disparagement"),
        ("We're unionizing because Northwind Labs is a disgrace on safety", "disparagement"),
        ("Our official position is that the report is wrong. Views are my own.", "company_voice"),
        ("Globex is a total scam (views are my own)", "disparagement"),
    ],
)
def test_protected_speech_is_never_flagged(engine, text, category) -> None:
    a = engine.analyse(text)
    assert category not in {f.category for f in a.findings}
    assert category in {f.category for f in a.suppressed}, "the text should have matched first"
    assert a.suppressors


def test_suppressors_leave_other_categories_alone(engine) -> None:
    a = engine.analyse("Our pay is too low, and here is the key AKIAUJZDE8GXD6NCF10E")
    assert [f.source for f in a.findings] == ["rule:cred.aws-access-key"]


def test_finding_carries_metadata_and_original_spans(engine) -> None:
    text = "ok so the key is AKIAUJZDE8GXD6NCF10E"
    (f,) = engine.analyse(text).findings
    assert f.source == "rule:cred.aws-access-key" and f.category == "credentials"
    assert f.severity == "critical" and f.score >= 0.9 and not f.shadow
    assert [text[a:b] for a, b in f.spans] == ["AKIAUJZDE8GXD6NCF10E"]
    assert f.policy_section == "SMP §4.2 Credentials" and f.guidance.startswith("This post")
    assert f.version and f.explanation == ["pattern match.regex[0]"]


def test_experimental_rules_are_shadow(engine) -> None:
    (f,) = engine.analyse("walked past 42 Elm Street, Apt 3 today").findings
    assert f.source == "rule:pii.street-address" and f.shadow


def test_deprecated_and_disabled_rules_never_fire(tmp_path, bundled) -> None:
    from monitor.pipeline.rules import RuleEngine

    src = (rules_dir() / "credentials.yaml").read_text(encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        src.replace("  - id: cred.aws-access-key\n", "  - id: cred.aws-access-key\n    status: deprecated\n"),
        encoding="utf-8",
    )
    dep = RuleEngine(load_rules([tmp_path]))
    assert dep.analyse("AKIAUJZDE8GXD6NCF10E").findings == []
    off = RuleEngine(bundled, disabled=["cred.aws-access-key"])
    assert off.analyse("AKIAUJZDE8GXD6NCF10E").findings == []
