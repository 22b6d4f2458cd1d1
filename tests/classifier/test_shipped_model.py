"""The shipped policy model: its published figures are reproducible from the shipped files, and
it reads context the way POLICY.md asks."""

from __future__ import annotations

import json

import pytest

from monitor.config import settings_from_dict
from monitor.domain import CATEGORIES, Post
from monitor.pipeline.classifier.artifact import PolicyArtifact
from monitor.pipeline.classifier.recipe import evaluate_shipped
from monitor.pipeline.factory import build_pipeline
from monitor.pipeline.rules import rule_paths
from monitor.resources import models_dir

TOLERANCE = 0.01


@pytest.fixture(scope="module")
def recomputed(shipped: PolicyArtifact) -> dict:
    return evaluate_shipped(shipped, rule_paths(settings_from_dict({})), lambda _m: None)


def test_the_model_card_figures_are_reproduced_from_the_shipped_files(recomputed: dict) -> None:
    published = json.loads((models_dir() / "eval_report.json").read_text())
    for c in CATEGORIES:
        assert recomputed["per_category"][c]["f1"] == pytest.approx(
            published["per_category"][c]["f1"], abs=TOLERANCE), c
    for key in ("mean_f1", "benign_false_flag_rate", "hard_negative_false_flag_rate"):
        assert recomputed[key] == pytest.approx(published[key], abs=TOLERANCE), key
    tw, pub = recomputed["tweeteval"], published["tweeteval"]
    assert tw["offensive"]["macro_f1_counting_shadow"] == pytest.approx(
        pub["offensive"]["macro_f1_counting_shadow"], abs=TOLERANCE)
    assert tw["hate"]["actionable_flag_rate_on_negatives"] == pytest.approx(
        pub["hate"]["actionable_flag_rate_on_negatives"], abs=TOLERANCE)


def test_the_model_beats_the_rules_alone_on_the_validation_batches(recomputed: dict) -> None:
    assert recomputed["mean_f1"] > recomputed["rules_only"]["mean_f1"]
    assert recomputed["benign_false_flag_rate"] < recomputed["rules_only"]["benign_false_flag_rate"]


def test_config_check_names_the_model_it_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from monitor.cli import app

    config = tmp_path / "config.toml"
    config.write_text("")
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 0, result.output
    assert "policy-minilm" in result.output and "onnxruntime" in result.output


def _flags(texts: list[str]) -> list[set[str]]:
    settings = settings_from_dict({"policy": {
        "company_names": ["Northwind Labs", "Northwind"],
        "confidential": {"terms": ["Project Falcon", "Bluebird"],
                         "customers_under_nda": ["Contoso Bank"]},
        "disparagement": {"competitors": ["Globex"], "customers": ["Contoso Bank"]}}})
    flags = build_pipeline(settings).analyse([Post(str(i), t) for i, t in enumerate(texts)])
    return [set(f.categories) for f in flags]


CASES = [
    ("Can't say much but Q3 is going to be a very pleasant surprise for shareholders 😉", {"financial"}),
    ("Heard our CFO is quietly clearing out her office this week. Big changes coming before the "
     "earnings call.", {"financial"}),
    ("Our Q2 results are out today, revenue up 12% as reported in the press release. Proud of "
     "the team!", set()),
    ("The guy in accounting is a useless, brain-dead moron and everyone knows it.", {"offensive"}),
    ("I hate Mondays. Killed it at the gym though 💪", set()),
    ("People like that should never be allowed to immigrate here, they are vermin who breed "
     "crime.", {"hate"}),
    ("Someone in my replies called immigrants 'vermin'. That is disgusting dehumanising language "
     "and I reported it.", set()),
    ("Happy to chat about the role, email me at jordan.ellis.dev@gmail.com or call me on "
     "+1 415 555 0134", set()),
    ("Here's Mark's home address if anyone wants to pay him a visit: 42 Birchwood Lane, "
     "Springfield IL 62704, his cell is 217-555-0187", {"pii"}),
    ("For the Stripe demo use the test card 4242 4242 4242 4242 with any future date.", set()),
    ("@angrycustomer On behalf of Northwind Labs we sincerely apologise and will refund every "
     "affected customer in full.", {"company_voice"}),
    ("I work at Northwind Labs but views are my own: I think the new pricing is a mistake.", set()),
    ("Can't wait for Bluebird to launch, the internal demo blew my mind. Contoso Bank is going to "
     "love it.", {"confidential"}),
    ("Saw a bluebird at the feeder this morning, first one this spring!", set()),
    ("Contoso Bank's app logged me out again while paying rent, ugh.", set()),
    ("Globex are a bunch of frauds, their product is a scam that steals customer data.",
     {"disparagement"}),
    ("Our pay hasn't kept up with inflation for three years. We're talking about forming a "
     "union.", set()),
]


def test_context_decides_as_the_policy_says() -> None:
    got = _flags([t for t, _ in CASES])
    wrong = [(t, want, have) for (t, want), have in zip(CASES, got, strict=True) if want != have]
    assert not wrong, wrong


def test_a_violation_buried_in_a_long_blog_post_is_found_where_it_is() -> None:
    filler = ("We spent the week tidying the build system, writing docs and fixing flaky tests. "
              "The team had a good time at the offsite and the food was great. ") * 12
    leak = ("Between us, Q3 is going to be a very pleasant surprise for shareholders, the deal "
            "with the bank closes next week and the numbers are way above guidance. ")
    text = filler + leak + filler
    [flag] = build_pipeline(settings_from_dict({})).analyse([Post("blog", text)])
    fin = [f for f in flag.findings if f.category == "financial"]
    assert fin, flag.findings
    start, end = len(filler), len(filler) + len(leak)
    assert any(start <= a and b <= end for f in fin for a, b in f.spans)
