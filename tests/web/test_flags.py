"""The flag log, on SQLite and PostgreSQL: filters, validation, search, paging, the flag page,
reviews and exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.domain import utcnow
from monitor.store.audit import ChainHead, latest_head, verify
from monitor.store.schema import AuditEventRow, FeedbackRow, FlagRow
from tests import factories as fx
from tests.web_support import build_world, client, csrf_of, sign_in


@pytest.fixture
def env(store_settings, store):
    """The dashboard's small world, once on SQLite and once on PostgreSQL."""
    world = build_world(store)
    return store_settings, store, world


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<td><a href="/flags/(\d+)">', html)}


@pytest.fixture
def cora(env):
    return sign_in(client(env[0], env[1]), "cora")


@pytest.mark.parametrize("params", [
    {"category": "bogus"},
    {"category": "pii' OR 1=1--"},
    {"severity": "high; DROP TABLE flags"},
    {"status": "open' UNION SELECT password_hash FROM users--"},
    {"team": "Sales' OR '1'='1"},
    {"platform": "X\"); --"},
    {"rule": "cred.password"},
    {"since": "2024-13-45"},
    {"since": "2025-03-01", "until": "2025-01-01"},
    {"until": "yesterday"},
    {"after": "!!!not-a-cursor"},
    {"limit": "100000"},
    {"limit": "-1"},
    {"orderby": "id"},
    {"q": "x" * 201},
    {"q": "nul\x00byte"},
])
def test_bad_filters_are_400_with_a_clear_message(cora, params):
    r = cora.get("/flags", params=params)
    assert r.status_code == 400
    assert "parameter &#39;" in r.text
    assert "Traceback" not in r.text and "sqlalchemy" not in r.text.lower()


def test_bad_filters_on_export_are_400_too(cora):
    r = cora.get("/export/flags.csv", params={"category": "x' OR 1=1"})
    assert r.status_code == 400


def test_filters_select_the_right_flags(env, cora):
    _, store, w = env
    with store.session() as s:
        p = fx.person(s, "lit@example.com", team="Literal")
        under = fx.flag(s, p, "token a_b leaked").id
        fx.flag(s, p, "token axb leaked")
        pct = fx.flag(s, p, "100% sure").id
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


def test_search_finds_post_text_and_treats_sql_as_text(env, cora):
    _, store, w = env
    page = cora.get("/flags", params={"q": "falcon"}).text
    assert f'href="/flags/{w.flags["ed"]}"' in page
    assert f'href="/flags/{w.flags["olga"]}"' not in page
    r = cora.get("/flags", params={"q": "'; DROP TABLE flags; --"})
    assert r.status_code == 200 and "No flags match" in r.text
    assert cora.get("/flags", params={"q": "100%"}).status_code == 200
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(FlagRow)) == 3


@pytest.mark.parametrize("micros", [0, 7])
def test_keyset_paging_walks_every_flag_once(env, cora, micros):
    _, store, _ = env
    with store.session() as s:
        p = fx.person(s, "bulk@example.com", team="Bulk")
        base = utcnow() - timedelta(days=3)
        for i in range(57):
            # Three flags share each timestamp: the id breaks ties so none is skipped; the
            # cursor keeps microseconds.
            fx.flag(s, p, f"post {i}", created_at=base + timedelta(minutes=i // 3,
                                                                    microseconds=micros),
                    audit=False)
    seen: list[str] = []
    url: str | None = "/flags?team=Bulk&limit=10"
    pages = 0
    while url:
        html = cora.get(url).text
        seen += re.findall(r'<td><a href="/flags/(\d+)">', html)
        m = re.search(r'id="next-page" href="([^"]+)"', html)
        url = m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    assert pages == 6
    assert len(seen) == 57 == len(set(seen))
    assert [int(x) for x in seen] == sorted((int(x) for x in seen), reverse=True)


def test_flag_page_highlights_spans_and_escapes_text(env, cora):
    _, _, w = env
    html = cora.get(f"/flags/{w.flags['eve']}").text
    assert "<script>alert(1)</script>" not in html
    # A credential span is highlighted, masked (its ends kept) and escaped.
    assert "<mark>&lt;scr" + "•" * 17 + "ipt&gt;</mark>" in html
    assert "alert(1)" not in html
    assert "rule:cred.password" in html and "Rotate the secret now." in html
    assert "Eve Example" not in html  # pseudonymised by default
    assert "person-" in html


def test_flag_page_shows_nudges_and_history(env, cora):
    _, store, w = env
    with store.session() as s:
        f = s.get(FlagRow, w.flags["ed"])
        mia = s.get(fx.PersonRow, w.people["mia"])
        fx.nudge(s, f, mia, role="manager", status="dead", last_error="channel_not_found",
                 attempts=6)
    html = cora.get(f"/flags/{w.flags['ed']}").text
    assert "channel_not_found" in html and "manager" in html
    assert "flag.created" in html and "flag.view" in html


def test_reveal_needs_a_reason_and_is_audited(env, cora):
    _, store, w = env
    fid = w.flags["eve"]
    token = csrf_of(cora, f"/flags/{fid}")
    r = cora.post(f"/flags/{fid}/reveal", data={"reason": "", "csrf_token": token})
    assert r.status_code == 400
    r = cora.post(f"/flags/{fid}/reveal",
                  data={"reason": "HR case 42 needs the author", "csrf_token": token})
    assert r.status_code == 200 and "Eve Example" in r.text
    with store.session() as s:
        ev = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "flag.reveal")).one()
    assert ev.actor == "cora" and ev.details["reason"] == "HR case 42 needs the author"


def test_dismiss_needs_a_reason_then_records_state_feedback_and_audit(env, cora):
    _, store, w = env
    fid = w.flags["olga"]
    token = csrf_of(cora, f"/flags/{fid}")
    r = cora.post(f"/flags/{fid}/review",
                  data={"action": "dismiss", "reason": " ", "csrf_token": token})
    assert r.status_code == 400 and "needs a reason" in r.text
    r = cora.post(f"/flags/{fid}/review", data={"action": "dismiss",
                  "reason": "satire, not about Globex", "csrf_token": token})
    assert r.status_code == 303
    with store.session() as s:
        f = s.get(FlagRow, fid)
        assert (f.status, f.resolution, f.reason) == ("dismissed", "reviewer",
                                                      "satire, not about Globex")
        fb = s.scalars(select(FeedbackRow).where(FeedbackRow.flag_id == fid)).one()
        assert (fb.verdict, fb.source) == ("not_a_concern", "rule:disp.competitor")
        assert verify(s).ok
    html = cora.get(f"/flags/{fid}").text
    assert "flag.dismiss" in html and "satire, not about Globex" in html
    # A dismissed flag cannot be dismissed again.
    r = cora.post(f"/flags/{fid}/review",
                  data={"action": "dismiss", "reason": "again", "csrf_token": token})
    assert r.status_code == 400


def test_bulk_acknowledge(env, cora):
    _, store, w = env
    token = csrf_of(cora, "/flags")
    ids = [str(w.flags["eve"]), str(w.flags["ed"])]
    r = cora.post("/flags/bulk", data={"ids": ids, "action": "acknowledge", "csrf_token": token})
    assert r.status_code == 200 and "2 changed" in r.text
    with store.session() as s:
        assert {s.get(FlagRow, int(i)).status for i in ids} == {"acknowledged"}
    r = cora.post("/flags/bulk", data={"ids": ["1; DROP"], "action": "resolve",
                                       "csrf_token": token})
    assert r.status_code == 400


def test_legal_hold_toggle_is_compliance_only_and_audited(env, cora):
    _, store, w = env
    fid = w.flags["ed"]
    token = csrf_of(cora, f"/flags/{fid}")
    assert cora.post(f"/flags/{fid}/hold", data={"hold": "1", "reason": "",
                                                 "csrf_token": token}).status_code == 400
    r = cora.post(f"/flags/{fid}/hold", data={"hold": "1", "reason": "litigation 7",
                                              "csrf_token": token})
    assert r.status_code == 303
    with store.session() as s:
        assert s.get(FlagRow, fid).legal_hold is True
        assert verify(s).ok


def test_csv_export_streams_filtered_view_with_chain_head(env, cora):
    _, store, w = env
    r = cora.get("/export/flags.csv", params={"category": "confidential"})
    assert r.status_code == 200
    with store.session() as s:
        export_event = s.scalars(select(AuditEventRow)
                                 .where(AuditEventRow.action == "flags.export")).one()
        done = s.scalars(select(AuditEventRow)
                         .where(AuditEventRow.action == "flags.export_complete")).one()
        head = ChainHead(export_event.id, export_event.at, export_event.hash)
    assert export_event.details["filters"] == {"category": "confidential"}
    # The export carries its own entry; the entry after it says it completed, with its rows.
    assert done.details == {"export": export_event.id, "format": "csv", "rows": 1}
    assert r.headers["x-socialguide-chain-head"] == head.as_text()
    lines = r.text.splitlines()
    assert lines[0].startswith("# socialguide flag export; chain_head=" + head.as_text())
    assert lines[-1] == f"# rows=1; chain_head={head.as_text()}"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:-1]))))
    assert [int(x["id"]) for x in rows] == [w.flags["ed"]]
    assert rows[0]["author"].startswith("person-") and "Ed" not in rows[0]["author"]


def test_json_export_parses_and_carries_chain_head(env, cora):
    _, store, _ = env
    r = cora.get("/export/flags.json")
    doc = json.loads(r.text)
    with store.session() as s:
        head = s.scalars(select(AuditEventRow)
                         .where(AuditEventRow.action == "flags.export")).one()
    assert doc["chain_head"] == {"id": head.id, "hash": head.hash}
    assert doc["rows"] == len(doc["flags"]) == 3


def test_csv_export_neutralises_spreadsheet_formulas(env, cora):
    _, store, _ = env
    with store.session() as s:
        p = fx.person(s, "f@example.com", team="Formula")
        fx.flag(s, p, "=HYPERLINK(\"http://x\")")
    text = cora.get("/export/flags.csv", params={"team": "Formula"}).text
    assert "'=HYPERLINK" in text


def test_review_hold_and_exports_keep_the_chain_whole(env, cora):
    _, store, w = env
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


def _options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S)
    assert select_html, name
    return re.findall(r'<option value="([^"]*)"', select_html.group(1))


def test_filters_offer_the_values_in_the_viewers_part_of_the_log_and_count_matches(env, cora):
    settings, store, w = env
    everything = cora.get("/flags").text
    assert _options(everything, "team") == ["", "Ops", "Sales"]
    assert _options(everything, "platform") == ["", "bluesky", "mastodon"]
    assert "rule:conf.codename" in _options(everything, "rule")
    assert 'id="result-count">3 flags match.' in everything
    narrowed = cora.get("/flags", params={"team": "Ops"}).text
    assert 'id="result-count">1 flag matches these filters.' in narrowed
    mia = sign_in(client(settings, store), "mia")
    theirs = mia.get("/flags").text
    assert _options(theirs, "team") == ["", "Sales"]  # no other team's name in a manager's list
    assert "rule:disp.competitor" not in _options(theirs, "rule")
    assert "shadow" not in _options(theirs, "status")
    assert "shadow" in _options(everything, "status")
