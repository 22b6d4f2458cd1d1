"""The shadow log is compliance's: managers and employees never see a shadow flag or finding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from monitor.config import settings_from_dict
from monitor.store import Store
from monitor.store.schema import FindingRow, FlagRow, PersonRow
from tests import factories as fx
from tests.web_support import client, sign_in

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
    assert cora.get(f"/flags/{ids['shadow']}").status_code == 200
    page = cora.get(f"/flags/{ids['live']}")
    assert SHADOW_GUIDANCE in page.text
    assert "(shadow)" in page.text
