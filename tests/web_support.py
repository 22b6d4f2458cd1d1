"""A small organisation, its dashboard users and a signed-in TestClient, for the web tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from monitor.config import Settings
from monitor.guidance.draft_check import DraftChecker
from monitor.store import Store
from monitor.web import create_app
from tests import factories as fx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    """Ids of what the tests look at: a two-level Sales team, and Ops next door."""

    flags: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


def build_world(store: Store) -> World:
    w = World()
    with store.session() as s:
        mia = fx.person(s, "mia@example.com", team="Sales", name="Mia Manager")
        eve = fx.person(s, "eve@example.com", manager=mia, team="Sales", name="Eve Example")
        ed = fx.person(s, "ed@example.com", manager=eve, team="Sales", name="Ed Deep")
        max_ = fx.person(s, "max@example.com", team="Ops", name="Max Other")
        olga = fx.person(s, "olga@example.com", manager=max_, team="Ops", name="Olga Ops")
        w.people = {"mia": mia.id, "eve": eve.id, "ed": ed.id, "max": max_.id, "olga": olga.id}
        w.flags["eve"] = fx.flag(s, eve, "my password is <script>alert(1)</script> ok",
                                 spans=[[15, 40]]).id
        w.flags["ed"] = fx.flag(s, ed, "Project Falcon ships in May", category="confidential",
                                severity="medium", source="rule:conf.codename").id
        w.flags["olga"] = fx.flag(s, olga, "Globex is a joke", category="disparagement",
                                  severity="low", source="rule:disp.competitor",
                                  platform="mastodon").id
        fx.user(s, "cora", "compliance")
        fx.user(s, "audrey", "auditor")
        fx.user(s, "mia", "manager", mia)
        fx.user(s, "max", "manager", max_)
        fx.user(s, "eve", "employee", eve)
    return w


def client(settings: Settings, store: Store, checker: DraftChecker | None = None) -> TestClient:
    return TestClient(create_app(settings, store, checker), follow_redirects=False)


def csrf_of(c: TestClient, path: str = "/login") -> str:
    m = CSRF.search(c.get(path).text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def sign_in(c: TestClient, username: str, password: str = fx.PASSWORD) -> TestClient:
    token = csrf_of(c)
    r = c.post("/login", data={"username": username, "password": password,
                               "csrf_token": token, "next": "/flags"})
    assert r.status_code == 303, r.text
    return c
