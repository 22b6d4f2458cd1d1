"""Findings as each person may see them, and judged one by one.

The shadow log is compliance's: managers and employees never see a shadow flag or finding.
A reviewer's verdict on one finding labels that finding's rule or model alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from monitor.compliance.reports import build_report
from monitor.config import settings_from_dict
from monitor.store import Store
from monitor.store.schema import FeedbackRow, FindingRow, FlagRow, PersonRow
from tests import factories as fx
from tests.web_support import client, csrf_of, sign_in

SHADOW_GUIDANCE = "A shadow model thought this might be hateful."


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[Store, dict[str, TestClient], dict[str, int]]]:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    settings = settings_from_dict({"store": {"url": url}}, source="test")
    store = Store(url)
    with store.session() as s:
        mia = fx.person(s, "mia@example.com", team="Sales", name="Mia Manager")
        eve = fx.person(s, "eve@example.com", manager=mia, team="Sales", name="Eve Example")
        shadow = fx.flag(s, eve, "ordinary post the hate model half-suspects", category="hate",
                         severity="medium", status="shadow", source="model:policy-minilm")
        shadow.findings[0].shadow = True
        live = fx.flag(s, eve, "my password is hunter2hunter2 for the wiki")
        _add_shadow_finding(s, live, eve)
        fx.user(s, "cora", "compliance")
        fx.user(s, "mia", "manager", mia)
        fx.user(s, "eve", "employee", eve)
        ids = {"shadow": shadow.id, "live": live.id}
    clients = {name: sign_in(client(settings, store), name) for name in ("cora", "mia", "eve")}
    yield store, clients, ids
    store.dispose()


def _add_shadow_finding(s, flag: FlagRow, author: PersonRow) -> None:
    """A low-confidence model finding beside the live rule finding on the same flag."""
    flag.findings.append(FindingRow(category="hate", source="model:policy-minilm",
                                    severity="medium", score=0.41, spans=[[0, 2]],
                                    guidance=SHADOW_GUIDANCE, policy_section="2.1",
                                    version="1", evidence="my", shadow=True))
    s.flush()


@pytest.mark.parametrize("who", ["mia", "eve"])
def test_managers_and_employees_never_see_a_shadow_flag(world, who):
    _, clients, ids = world
    c = clients[who]
    log = c.get("/flags")
    assert log.status_code == 200
    assert f"/flags/{ids['live']}" in log.text
    assert f"/flags/{ids['shadow']}" not in log.text
    assert c.get(f"/flags/{ids['shadow']}").status_code == 404
    assert f"/flags/{ids['shadow']}" not in c.get("/flags", params={"status": "shadow"}).text


@pytest.mark.parametrize("who", ["mia", "eve"])
def test_their_flag_page_leaves_out_shadow_findings(world, who):
    _, clients, ids = world
    page = clients[who].get(f"/flags/{ids['live']}")
    assert page.status_code == 200
    assert "Rotate the secret now." in page.text
    assert SHADOW_GUIDANCE not in page.text
    assert "(shadow)" not in page.text


def test_compliance_sees_the_shadow_log_and_every_finding(world):
    _, clients, ids = world
    cora = clients["cora"]
    assert f"/flags/{ids['shadow']}" in cora.get("/flags", params={"status": "shadow"}).text
    # ...as a view of its own: the log itself, and its export, hold live flags only.
    log = cora.get("/flags").text
    assert f"/flags/{ids['live']}" in log and f"/flags/{ids['shadow']}" not in log
    def exported(**params: str) -> set[int]:
        body = cora.get("/export/flags.json", params=params).json()
        return {row["id"] for row in body["flags"]}

    assert ids["live"] in exported() and ids["shadow"] not in exported()
    assert exported(status="shadow") == {ids["shadow"]}
    assert cora.get(f"/flags/{ids['shadow']}").status_code == 200
    page = cora.get(f"/flags/{ids['live']}")
    assert SHADOW_GUIDANCE in page.text
    assert "(shadow)" in page.text


def _verdicts(store: Store) -> list[tuple[str | None, str | None, str]]:
    with store.session() as s:
        rows = s.scalars(select(FeedbackRow).order_by(FeedbackRow.id)).all()
        return [(r.source, r.category, r.verdict) for r in rows]


def _finding_ids(store: Store, flag_id: int) -> dict[str, int]:
    with store.session() as s:
        return {f.source: f.id for f in s.get(FlagRow, flag_id).findings}


def test_a_reviewer_judges_one_finding_without_labelling_the_others(world):
    store, clients, ids = world
    settings = settings_from_dict({"store": {"url": store.url}}, source="test")
    cora = clients["cora"]
    found = _finding_ids(store, ids["live"])
    token = csrf_of(cora, f"/flags/{ids['live']}")
    r = cora.post(f"/flags/{ids['live']}/findings/{found['model:policy-minilm']}/verdict",
                  data={"verdict": "not_a_concern", "csrf_token": token})
    assert r.status_code == 303
    r = cora.post(f"/flags/{ids['live']}/findings/{found['rule:cred.password']}/verdict",
                  data={"verdict": "confirmed", "csrf_token": token})
    assert r.status_code == 303
    assert _verdicts(store) == [("model:policy-minilm", "hate", "not_a_concern"),
                                ("rule:cred.password", "credentials", "confirmed")]
    since = datetime.now(UTC) - timedelta(days=1)
    with store.session() as s:
        rep = build_report(s, settings, since)
    rules = {r.source: r for r in rep.rules}
    assert rules["rule:cred.password"].confirmed == 1
    assert rules["rule:cred.password"].not_a_concern == 0
    # The model's finding was a shadow one: its verdict counts in the shadow report only.
    assert "model:policy-minilm" not in rules
    shadow = {r.source: r for r in rep.shadow_rules}
    assert shadow["model:policy-minilm"].not_a_concern == 1
    assert shadow["model:policy-minilm"].confirmed == 0


def test_a_finding_verdict_is_refused_where_it_may_not_be_given(world):
    store, clients, ids = world
    found = _finding_ids(store, ids["live"])
    url = f"/flags/{ids['live']}/findings/{found['rule:cred.password']}/verdict"
    shadow = f"/flags/{ids['live']}/findings/{found['model:policy-minilm']}/verdict"
    eve, mia = clients["eve"], clients["mia"]
    r = eve.post(url, data={"verdict": "confirmed", "csrf_token": csrf_of(eve, "/flags")})
    assert r.status_code == 404  # an employee reviews nothing
    r = mia.post(shadow, data={"verdict": "confirmed", "csrf_token": csrf_of(mia, "/flags")})
    assert r.status_code == 404  # a manager cannot judge what they are not shown
    cora = clients["cora"]
    token = csrf_of(cora, f"/flags/{ids['live']}")
    assert cora.post(url, data={"verdict": "maybe", "csrf_token": token}).status_code == 400
    other = f"/flags/{ids['shadow']}/findings/{found['rule:cred.password']}/verdict"
    assert cora.post(other, data={"verdict": "confirmed", "csrf_token": token}).status_code == 404
    assert _verdicts(store) == []


def test_escalating_a_flag_confirms_its_live_findings_not_the_shadow_one(world):
    store, clients, ids = world
    cora = clients["cora"]
    token = csrf_of(cora, f"/flags/{ids['live']}")
    r = cora.post(f"/flags/{ids['live']}/review",
                  data={"action": "escalate", "reason": "needs security", "csrf_token": token})
    assert r.status_code == 303, r.text
    assert _verdicts(store) == [("rule:cred.password", "credentials", "confirmed")]
