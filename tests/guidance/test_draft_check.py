"""Checking a draft: validation, advice per finding, masked credentials, rewording, counters."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from monitor.guidance.draft_check import (
    NOTHING_FOUND,
    CheckFailed,
    DraftChecker,
    DraftError,
    clean_draft,
)
from monitor.guidance.draft_counts import ALL_DRAFTS, count, weekly_counts
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import rule_detectors
from monitor.store import Store
from monitor.store.schema import DraftCheckCountRow
from tests.check_support import AWS_KEY, ShadowDetector, check_settings, exploding_pipeline


@pytest.fixture
def checker(tmp_db_url: str) -> DraftChecker:
    return DraftChecker(check_settings(tmp_db_url))


def test_empty_oversize_and_binary_drafts_are_refused_naming_the_problem() -> None:
    with pytest.raises(DraftError, match="empty"):
        clean_draft("  \n\t ", 100)
    with pytest.raises(DraftError, match="101 characters long; the limit is 100"):
        clean_draft("x" * 101, 100)
    with pytest.raises(DraftError, match=r"binary data \(control character U\+0000 at "
                       r"position 5\)"):
        clean_draft("hello\x00world", 100)
    assert clean_draft("tab\tand\nnew line", 100) == "tab\tand\nnew line"
    # A lone surrogate (legal in JSON) is replaced one-for-one, so spans still hold.
    assert clean_draft("a\ud800b", 100) == "a\ufffdb"


def test_a_clean_draft_gets_the_all_clear(checker: DraftChecker) -> None:
    answer = checker.check("Lovely walk by the river this morning, see you all at the meetup")
    assert not answer.flagged and answer.advice == []
    assert answer.summary == NOTHING_FOUND
    assert answer.to_json()["findings"] == []


def test_each_finding_is_explained_with_the_credential_masked(checker: DraftChecker) -> None:
    text = f"deploy key {AWS_KEY} - and call Jane on +1 415 555 0100 tonight"
    answer = checker.check(text)
    cats = [a.finding.category for a in answer.advice]
    assert cats == ["credentials", "pii"]
    cred, pii = answer.advice
    assert cred.excerpt == "AKIA…F10E"
    assert cred.label == "what looks like a password, key or token"
    assert cred.policy_section == "SMP §4.2 Credentials"
    assert "rotate" in cred.guidance
    assert cred.training_url.startswith("https://")
    assert cred.suggestion is not None and "[key removed]" in cred.suggestion.text
    assert AWS_KEY not in cred.suggestion.text
    # The key is masked wherever it appears around another finding, too.
    assert pii.excerpt == "+1 415 555 0100"
    assert pii.suggestion is not None and "[details shared privately]" in pii.suggestion.text
    for a in answer.advice:
        shown = a.before + a.excerpt + a.after + (a.suggestion.text if a.suggestion else "")
        assert AWS_KEY not in shown
    # The JSON keeps the scan contract's keys and adds the guidance the author needs.
    first = answer.to_json()["findings"][0]
    assert {"category", "source", "severity", "score", "spans", "guidance"} <= set(first)
    assert first["spans"] == [[11, 31]] and first["policy_section"] == "SMP §4.2 Credentials"
    assert AWS_KEY not in str(answer.to_json())


def test_templates_drop_a_customer_name_and_add_a_disclaimer(checker: DraftChecker) -> None:
    nda = checker.check("Onsite at Contoso Bank all week for their migration to our platform")
    (advice,) = [a for a in nda.advice if a.finding.source == "rule:conf.nda-customer"]
    assert advice.suggestion is not None
    assert advice.suggestion.title == "Drop the customer's name"
    assert "a customer" in advice.suggestion.text and "Contoso" not in advice.suggestion.text

    voice = checker.check("On behalf of Northwind Labs we apologise and will refund everyone")
    (advice,) = [a for a in voice.advice if a.finding.category == "company_voice"]
    assert advice.suggestion is not None and advice.suggestion.title == "Add a disclaimer"
    assert advice.suggestion.text.endswith("(views are my own)")
    # The suggested text really clears the finding.
    again = checker.check(advice.suggestion.text)
    assert "company_voice" not in [a.finding.category for a in again.advice]


def test_no_template_for_wording_only_the_author_can_change(checker: DraftChecker) -> None:
    answer = checker.check("Globex are frauds and scammers, everyone knows it")
    assert answer.flagged
    assert all(a.suggestion is None for a in answer.advice)


def test_shadow_findings_never_reach_the_author(tmp_db_url: str) -> None:
    settings = check_settings(tmp_db_url)
    checker = DraftChecker(settings, lambda s: Pipeline(
        detectors=[*rule_detectors(s), ShadowDetector()]))
    answer = checker.check("just a plain post about gardening")
    assert not answer.flagged and answer.categories == []


def test_a_failing_pipeline_gives_a_request_id_and_logs_no_text(
    tmp_db_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    checker = DraftChecker(check_settings(tmp_db_url), exploding_pipeline)
    with caplog.at_level(logging.DEBUG), pytest.raises(CheckFailed) as err:
        checker.check("zebra-umbrella-7731 is my secret draft", request_id="req123")
    assert err.value.request_id == "req123" and "req123" in str(err.value)
    assert "req123" in caplog.text and "RuntimeError" in caplog.text
    assert "zebra-umbrella" not in caplog.text
    assert "zebra-umbrella" not in str(err.value)


def test_counts_are_per_week_and_category_with_nothing_else(fresh_store: Store) -> None:
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    count(fresh_store, ["credentials", "pii"], monday)
    count(fresh_store, ["pii"], datetime(2026, 3, 8, 23, tzinfo=UTC))  # Sunday, same week
    count(fresh_store, [], datetime(2026, 3, 9, 1, tzinfo=UTC))  # next week, nothing found
    with fresh_store.session() as s:
        rows = sorted((r.week, r.category, r.drafts) for r in s.scalars(
            select(DraftCheckCountRow)))
        assert rows == [("2026-03-02", ALL_DRAFTS, 2), ("2026-03-02", "credentials", 1),
                        ("2026-03-02", "pii", 2), ("2026-03-09", ALL_DRAFTS, 1)]
        got = weekly_counts(s, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20,
                                                                             tzinfo=UTC))
    assert got == {"2026-03-02": {ALL_DRAFTS: 2, "credentials": 1, "pii": 2},
                   "2026-03-09": {ALL_DRAFTS: 1}}


def test_the_report_shows_drafts_checked_as_a_leading_indicator(
    fresh_store: Store, tmp_db_url: str,
) -> None:
    from monitor.compliance.reports import build_report, report_csv, report_json

    settings = check_settings(tmp_db_url)
    count(fresh_store, ["credentials"], datetime(2026, 3, 3, tzinfo=UTC))
    count(fresh_store, [], datetime(2026, 3, 4, tzinfo=UTC))
    with fresh_store.session() as s:
        rep = build_report(s, settings, datetime(2026, 3, 1, tzinfo=UTC),
                           datetime(2026, 3, 31, tzinfo=UTC))
    assert rep.drafts_checked == 2
    assert rep.drafts_weekly == {"2026-03-02": {ALL_DRAFTS: 2, "credentials": 1}}
    csv_text = report_csv(rep)
    assert "drafts_checked,total,,2" in csv_text
    assert "drafts_checked_per_week,2026-03-02,all,2" in csv_text
    assert "drafts_checked_per_week,2026-03-02,credentials,1" in csv_text
    assert '"drafts_checked": 2' in report_json(rep)


class _Recording:
    """Sleeps a little per batch, records batch sizes, fails on drafts containing BOOM."""

    name = "recording"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect(self, posts):  # type: ignore[no-untyped-def]
        import time

        self.batches.append(len(posts))
        time.sleep(0.2)
        if any("BOOM" in p.text for p in posts):
            raise ValueError("boom")
        return [[] for _ in posts]


def test_waiting_drafts_are_analysed_together_and_a_bad_one_fails_alone(
    tmp_db_url: str,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    recording = _Recording()
    checker = DraftChecker(check_settings(tmp_db_url, check={"concurrency": 1}),
                           lambda s: Pipeline(detectors=[recording]))
    checker.check("first, alone")
    assert recording.batches == [1]
    texts = [f"draft {i}" for i in range(6)] + ["this one goes BOOM"]
    with ThreadPoolExecutor(len(texts)) as pool:
        futures = [pool.submit(checker.check, t) for t in texts]
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result().flagged)
            except CheckFailed:
                outcomes.append("failed")
    assert outcomes == [False] * 6 + ["failed"]
    # One worker: while it was busy the others waited, then went through together (a failing
    # batch is retried one draft at a time, so only the bad draft failed).
    assert max(recording.batches[1:]) > 1
