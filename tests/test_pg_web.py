"""The compliance dashboard and its queries on PostgreSQL: filters, search, paging, scope,
review, exports, reports and ``log verify``."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance.reports import build_report, parse_since
from monitor.config import Settings
from monitor.domain import utcnow
from monitor.store import Store
from monitor.store.audit import ChainHead, latest_head, verify
from monitor.store.schema import AuditEventRow, FeedbackRow, FlagRow, PersonRow
from tests import factories as fx
from tests.pg_support import pg_config, pg_settings, pg_store  # noqa: F401 (fixtures)
from tests.web_support import World, build_world, client, csrf_of, sign_in

runner = CliRunner()

pytestmark = pytest.mark.postgres


@pytest.fixture
def env(pg_settings: Settings, pg_store: Store) -> tuple[Settings, Store, World]:  # noqa: F811
    return pg_settings, pg_store, build_world(pg_store)


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<td><a href="/flags/(\d+)">', html)}


def test_filters_and_search_select_the_right_flags(env):
    settings, store, w = env
    with store.session() as s:
        p = fx.person(s, "lit@example.com", team="Literal")
        under = fx.flag(s, p, "token a_b leaked").id
        fx.flag(s, p, "token axb leaked")
        pct = fx.flag(s, p, "100% sure").id
    cora = sign_in(client(settings, store), "cora")
    assert _ids(cora.get("/flags", params={"category": "confidential"}).text) == {w.flags["ed"]}
    assert _ids(cora.get("/flags", params={"platform": "mastodon", "team": "Ops"}).text) == {
        w.flags["olga"]}
    assert _ids(cora.get("/flags", params={"rule": "rule:conf.codename"}).text) == {
        w.flags["ed"]}
    assert _ids(cora.get("/flags", params={"severity": "low", "status": "open"}).text) == {
        w.flags["olga"]}
    today = utcnow().date().isoformat()
    assert len(_ids(cora.get("/flags", params={"since": today, "until": today}).text)) == 6
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert "No flags match" in cora.get("/flags", params={"since": tomorrow}).text
    # Search ignores case (PostgreSQL's LIKE would not) and treats % and _ as text.
    assert _ids(cora.get("/flags", params={"q": "FALCON"}).text) == {w.flags["ed"]}
    assert _ids(cora.get("/flags", params={"q": "a_b"}).text) == {under}
    assert _ids(cora.get("/flags", params={"q": "100%"}).text) == {pct}
    r = cora.get("/flags", params={"q": "'; DROP TABLE flags; --"})
    assert r.status_code == 200 and "No flags match" in r.text
    assert cora.get("/flags", params={"category": "pii' OR 1=1--"}).status_code == 400
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(FlagRow)) == 6


def test_keyset_paging_walks_every_flag_once(env):
    settings, store, _ = env
    with store.session() as s:
        p = fx.person(s, "bulk@example.com", team="Bulk")
        base = utcnow() - timedelta(days=3)
        for i in range(57):
            # Three flags share each timestamp: the id breaks ties so none is skipped.
            fx.flag(s, p, f"post {i}", created_at=base + timedelta(minutes=i // 3,
                                                                    microseconds=7),
                    audit=False)
    cora = sign_in(client(settings, store), "cora")
    seen: list[int] = []
    url: str | None = "/flags?team=Bulk&limit=10"
    pages = 0
    while url:
        html = cora.get(url).text
        seen += [int(x) for x in re.findall(r'<td><a href="/flags/(\d+)">', html)]
        m = re.search(r'id="next-page" href="([^"]+)"', html)
        url = m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    assert pages == 6
    assert len(seen) == 57 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_managers_see_their_whole_chain_and_nothing_else(env):
    settings, store, w = env
    with store.session() as s:
        # A fourth level under Ed: the recursive query must follow the whole chain.
        ed = s.get(PersonRow, w.people["ed"])
        deep = fx.person(s, "deep@example.com", manager=ed, team="Sales")
        w.flags["deep"] = fx.flag(s, deep, "Globex is a joke", category="disparagement",
                                  severity="low", source="rule:disp.competitor").id
    mia = sign_in(client(settings, store), "mia")
    assert _ids(mia.get("/flags").text) == {w.flags["eve"], w.flags["ed"], w.flags["deep"]}
    assert mia.get(f"/flags/{w.flags['deep']}").status_code == 200
    assert mia.get(f"/flags/{w.flags['olga']}").status_code == 404
    mx = sign_in(client(settings, store), "max")
    assert _ids(mx.get("/flags").text) == {w.flags["olga"]}
    eve = sign_in(client(settings, store), "eve")
    assert _ids(eve.get("/flags").text) == {w.flags["eve"]}
    assert eve.get(f"/flags/{w.flags['ed']}").status_code == 404
    # Bulk actions stay inside the scope too.
    token = csrf_of(mia, "/flags")
    r = mia.post("/flags/bulk", data={"ids": [str(w.flags["olga"]), str(w.flags["deep"])],
                                      "action": "acknowledge", "csrf_token": token})
    assert r.status_code == 200 and "1 changed" in r.text
    with store.session() as s:
        assert s.get(FlagRow, w.flags["olga"]).status == "open"
        assert s.get(FlagRow, w.flags["deep"]).status == "acknowledged"


def test_review_hold_and_exports_keep_the_chain_whole(env):
    settings, store, w = env
    cora = sign_in(client(settings, store), "cora")
    fid = w.flags["olga"]
    token = csrf_of(cora, f"/flags/{fid}")
    r = cora.post(f"/flags/{fid}/review", data={"action": "dismiss",
                  "reason": "satire, not about Globex", "csrf_token": token})
    assert r.status_code == 303
    r = cora.post(f"/flags/{w.flags['ed']}/hold", data={"hold": "1", "reason": "litigation 7",
                                                        "csrf_token": token})
    assert r.status_code == 303
    with store.session() as s:
        f = s.get(FlagRow, fid)
        assert (f.status, f.resolution) == ("dismissed", "reviewer")
        assert s.get(FlagRow, w.flags["ed"]).legal_hold is True
        fb = s.scalars(select(FeedbackRow).where(FeedbackRow.flag_id == fid)).one()
        assert fb.verdict == "not_a_concern"
        assert verify(s).ok
    r = cora.get("/export/flags.csv", params={"category": "confidential"})
    assert r.status_code == 200
    with store.session() as s:
        head = latest_head(s)  # the export's "complete" entry, after its own
        assert head is not None
        head = ChainHead(head.id - 1, None, s.get(AuditEventRow, head.id - 1).hash)
    assert r.headers["x-socialguide-chain-head"] == head.as_text()
    lines = r.text.splitlines()
    assert lines[0].startswith("# socialguide flag export; chain_head=" + head.as_text())
    assert lines[-1] == f"# rows=1; chain_head={head.as_text()}"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:-1]))))
    assert [int(x["id"]) for x in rows] == [w.flags["ed"]]
    assert rows[0]["legal_hold"] == "True" and rows[0]["categories"] == "confidential"
    doc = json.loads(cora.get("/export/flags.json").text)
    assert doc["rows"] == len(doc["flags"]) == 3
    assert {f["id"] for f in doc["flags"]} == set(w.flags.values())
    assert all(f["author"].startswith("person-") for f in doc["flags"])
    with store.session() as s:
        assert verify(s).ok
        assert s.scalar(select(func.count()).where(AuditEventRow.action == "flags.export")) == 2


_seed_report = fx.seed_report


def test_report_figures_page_csv_and_cli(
    pg_settings: Settings, pg_store: Store, pg_config: Path, tmp_path: Path  # noqa: F811
) -> None:
    _seed_report(pg_store)
    with pg_store.session() as s:
        rep = build_report(s, pg_settings, parse_since("90d"))
    assert rep.flags_total == 3
    assert (rep.resolved, rep.self_resolved, rep.self_resolved_share) == (2, 1, 0.5)
    assert rep.ttr_median_hours == 6.0
    rules = {r.source: r for r in rep.rules}
    assert (rules["rule:pii.phone"].findings, rules["rule:pii.phone"].precision) == (2, 0.5)
    assert rules["model:tfidf"].precision == 0.0
    assert rep.nudges_sent == 6
    assert (rep.person_weeks, rep.person_weeks_over_budget) == (2, 1)
    assert [d["last_error"] for d in rep.dead_nudges] == ["user_not_found"]
    with pg_store.session() as s:
        fx.user(s, "cora", "compliance")
    cora = sign_in(client(pg_settings, pg_store), "cora")
    html = cora.get("/reports", params={"since": "90d"}).text
    assert html.count("<svg") >= 2 and "user_not_found" in html
    assert cora.get("/reports/report.csv").text.startswith("section,key,subkey,value")
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["report", "--since", "90d", "-o", str(out), "--config",
                            str(pg_config)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["flags_total"] == 3


def test_log_verify_on_postgresql_names_tampering(env, pg_config: Path) -> None:  # noqa: F811
    _, store, w = env
    r = runner.invoke(app, ["log", "head", "--config", str(pg_config)])
    assert r.exit_code == 0, r.output
    saved = r.stdout.strip()
    r = runner.invoke(app, ["log", "verify", "--config", str(pg_config), "--head", saved])
    assert r.exit_code == 0, r.output
    assert "ok: 3 entries, 3 flags checked" in r.output
    with store.engine.begin() as conn:  # a row changed behind the log's back
        conn.execute(text("UPDATE flags SET status = 'dismissed' WHERE id = :id"),
                     {"id": w.flags["eve"]})
    r = runner.invoke(app, ["log", "verify", "--config", str(pg_config)])
    assert r.exit_code == 1
    assert f"flag {w.flags['eve']}" in r.output
    with store.engine.begin() as conn:  # and the newest entry removed
        conn.execute(text("UPDATE flags SET status = 'open' WHERE id = :id"),
                     {"id": w.flags["eve"]})
        conn.execute(text("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"))
    r = runner.invoke(app, ["log", "verify", "--config", str(pg_config), "--head", saved])
    assert r.exit_code == 1 and "chain head" in r.output
