"""The effectiveness report, on SQLite and PostgreSQL: figures from known data, the dashboard
page, CSV and the CLI."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance.reports import build_report, parse_since, report_csv, report_json
from tests import factories as fx
from tests.web_support import build_world, client, sign_in

_seed = fx.seed_report


def test_report_figures(store_settings, store):
    _seed(store)
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("90d"))
    assert rep.flags_total == 3
    assert sum(sum(w.values()) for w in rep.weekly.values()) == 3
    assert (rep.resolved, rep.self_resolved, rep.self_resolved_share) == (2, 1, 0.5)
    assert rep.ttr_median_hours == 6.0
    rules = {r.source: r for r in rep.rules}
    assert (rules["rule:pii.phone"].findings, rules["rule:pii.phone"].precision) == (2, 0.5)
    assert rules["model:tfidf"].precision == 0.0
    assert rep.noisiest()[0].source in ("rule:pii.phone", "model:tfidf")
    assert rep.nudges_sent == 6
    assert (rep.person_weeks, rep.person_weeks_over_budget) == (2, 1)
    assert [d["last_error"] for d in rep.dead_nudges] == ["user_not_found"]
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert ["resolution", "self_resolved_share", "", "0.5"] in rows
    assert ["rule", "rule:pii.phone", "precision", "0.5"] in rows


def test_since_is_validated(settings, fresh_store):
    import pytest

    from monitor.errors import InputError

    for bad in ("ninety", "0d", "90x"):
        with pytest.raises(InputError):
            parse_since(bad)


def test_reports_page_draws_charts_for_compliance_only(store_settings, store):
    build_world(store)
    _seed(store)
    cora = sign_in(client(store_settings, store), "cora")
    html = cora.get("/reports", params={"since": "90d"}).text
    assert html.count("<svg") >= 2 and "Dead-lettered nudges" in html
    assert "user_not_found" in html
    csv_text = cora.get("/reports/report.csv").text
    assert csv_text.startswith("section,key,subkey,value")
    auditor = sign_in(client(store_settings, store), "audrey")
    assert "Dead-lettered nudges" not in auditor.get("/reports").text
    mia = sign_in(client(store_settings, store), "mia")
    assert mia.get("/reports").status_code == 404
    assert cora.get("/reports", params={"since": "1 OR 1=1"}).status_code == 400
    assert cora.get("/reports", params={"foo": "1"}).status_code == 400


def test_cli_report_writes_csv_json_and_html(store, store_config: Path, tmp_path: Path):
    _seed(store)
    cfg = store_config
    runner = CliRunner()
    for name in ("r.csv", "r.json", "r.html"):
        out = tmp_path / name
        r = runner.invoke(app, ["report", "--since", "90d", "-o", str(out), "--config", str(cfg)])
        assert r.exit_code == 0, r.output
    assert "self_resolved_share" in (tmp_path / "r.csv").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["flags_total"] == 3
    assert "<svg" in (tmp_path / "r.html").read_text()
    r = runner.invoke(app, ["report", "--since", "soon", "--config", str(cfg)])
    assert r.exit_code == 1 and "--since" in r.output


def _seed_shadow_and_older(store) -> dict[str, int]:
    """On top of ``seed_report``: a shadow flag, a shadow finding beside a live one, verdicts on
    both, and a flag 45 days ago (the month before the last one)."""
    from monitor.store.schema import FeedbackRow, FindingRow

    with store.session() as s:
        p = fx.person(s, "c@example.com")
        live = fx.flag(s, p, "x", category="hate", source="rule:hate.slur",
                       created_at=fx.days_ago(3))
        live.findings.append(FindingRow(category="hate", source="model:policy", severity="low",
                                        score=0.4, spans=[], guidance="", shadow=True))
        shadow = fx.flag(s, p, "y", category="offensive", source="model:policy", status="shadow",
                         created_at=fx.days_ago(2))
        shadow.findings[0].shadow = True
        fx.flag(s, p, "z", category="financial", source="rule:fin.results",
                created_at=fx.days_ago(45))
        s.flush()
        s.add(FeedbackRow(flag_id=shadow.id, source="model:policy", role="compliance",
                          actor="cora", verdict="not_a_concern"))
        s.add(FeedbackRow(flag_id=live.id, source=None, role="compliance", actor="cora",
                          verdict="confirmed"))
        return {"live": live.id, "shadow": shadow.id}


def test_shadow_flags_are_counted_apart_and_reported_per_source(store_settings, store):
    """The header counts what people saw; the shadow report says what shadow sources found, and
    a verdict on a shadow finding never moves a live rule's precision."""
    _seed(store)
    ids = _seed_shadow_and_older(store)
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("90d"))
    assert (rep.flags_total, rep.shadow_total) == (5, 1)
    assert sum(sum(w.values()) for w in rep.weekly.values()) == rep.flags_total
    shadow = {r.source: r for r in rep.shadow_rules}
    assert list(shadow) == ["model:policy"]
    sh = shadow["model:policy"]
    assert (sh.findings, sh.flags, sh.categories) == (2, 2, {"hate": 1, "offensive": 1})
    assert (sh.confirmed, sh.not_a_concern) == (0, 1)
    assert sorted(sh.examples) == sorted(ids.values())
    live = {r.source: r for r in rep.rules}
    assert "model:policy" not in live
    # The flag-level "confirmed" labelled the live finding only.
    assert (live["rule:hate.slur"].confirmed, live["rule:hate.slur"].not_a_concern) == (1, 0)
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert ["flags", "shadow", "", "1"] in rows
    assert ["shadow_rule", "model:policy", "not_a_concern", "1"] in rows


def test_one_verdict_per_finding_whoever_gave_it(store_settings, store):
    """Several people judging one finding count it once, the reviewer's word over the
    manager's over the author's, so a rule never shows more judged findings than findings."""
    from monitor.store.schema import FeedbackRow

    with store.session() as s:
        p = fx.person(s, "d@example.com")
        flag = fx.flag(s, p, "w", category="offensive", source="rule:off.insult",
                       created_at=fx.days_ago(4))
        s.flush()
        for role, actor, verdict in [("reviewer", "cora", "confirmed"),
                                     ("author", "d@example.com", "not_a_concern"),
                                     ("manager", "m@example.com", "not_a_concern"),
                                     ("reviewer", "rui", "confirmed")]:
            s.add(FeedbackRow(flag_id=flag.id, source="rule:off.insult", role=role,
                              actor=actor, verdict=verdict))
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("90d"))
    rule = {r.source: r for r in rep.rules}["rule:off.insult"]
    assert (rule.findings, rule.confirmed, rule.not_a_concern) == (1, 1, 0)
    assert all(r.confirmed + r.not_a_concern <= r.findings for r in rep.rules)


def test_what_changed_this_month(store_settings, store):
    """The last 30 days against the 30 before: flags by category, self-resolution, the
    false-positive rate from verdicts, nudges and the budget."""
    _seed(store)
    _seed_shadow_and_older(store)
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("90d"))
    ch = rep.changes
    assert ch is not None and ch.days == 30
    assert (ch.flags.current, ch.flags.previous, ch.flags.delta) == (4, 1, 3)
    assert (ch.flags_by_category["financial"].current,
            ch.flags_by_category["financial"].previous) == (0, 1)
    assert ch.flags_by_category["pii"].current == 2
    assert (ch.self_resolved_share.current, ch.self_resolved_share.previous) == (0.5, None)
    assert ch.self_resolved_share.delta is None
    # Live verdicts in the last 30 days: confirmed f1 and the hate flag, not a concern f2, f3.
    assert (ch.judged.current, ch.false_positive_rate.current) == (4, 0.5)
    assert (ch.nudges_sent.current, ch.nudges_sent.previous) == (6, 0)
    assert ch.person_weeks_over_budget.current == 1
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert ["change_last_30d", "flags", "delta", "3"] in rows
    assert ["change_last_30d", "flags:financial", "previous", "1"] in rows
    data = json.loads(report_json(rep))
    assert data["changes"]["flags"] == {"current": 4, "previous": 1, "delta": 3}
    assert data["shadow_rules"][0]["source"] == "model:policy"


def test_weekly_figures_have_every_week_of_the_window(store_settings, store):
    """A quiet week is a zero on the chart, not a missing column that hides the trend."""
    _seed(store)
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("12w"))
    weeks = list(rep.weekly)
    assert len(weeks) in (12, 13)
    assert all(d == 7 for d in (
        (date.fromisoformat(b) - date.fromisoformat(a)).days for a, b in itertools.pairwise(weeks)))
    assert sum(1 for w in weeks if not rep.weekly[w]) >= 9


def test_reports_page_shows_changes_shadow_report_and_labelled_charts(store_settings, store):
    build_world(store)
    _seed(store)
    ids = _seed_shadow_and_older(store)
    cora = sign_in(client(store_settings, store), "cora")
    html = cora.get("/reports", params={"since": "90d"}).text
    assert 'id="what-changed"' in html and "Flags people saw" in html
    changes = html[html.index('id="changes"'):html.index("</table>", html.index('id="changes"'))]
    # More flags than the month before (the world's three flags are today's), shown as rising.
    assert re.search(r'Flags people saw</td>\s*<td>7</td>\s*<td>1</td>\s*<td class="up">\+6</td>',
                     changes), changes
    shadow = html[html.index('id="shadow-rules"'):]
    shadow = shadow[:shadow.index("</table>")]
    assert "model:policy" in shadow and f'href="/flags/{ids["shadow"]}"' in shadow
    assert 'class="chart wide"' in html
    assert ">flags</text>" in html and ">week starting</text>" in html  # labelled axes
    assert "(+1 shadow)" in html
