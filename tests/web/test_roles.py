"""Role boundaries, sign-in, sessions and CSRF on the dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from monitor.config import Settings, settings_from_dict
from monitor.store import Store
from monitor.store.schema import AuditEventRow, FlagRow, PersonRow
from tests import factories as fx
from tests.web_support import World, build_world, client, csrf_of, sign_in


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<td><a href="/flags/(\d+)">', html)}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store, World]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'sg.db'}"
    settings = settings_from_dict({"store": {"url": url}}, source="test")
    store = Store(url)
    world = build_world(store)
    yield settings, store, world
    store.dispose()


@pytest.fixture(scope="module")
def clients(env: tuple[Settings, Store, World]) -> dict[str, TestClient]:
    settings, store, _ = env
    return {name: sign_in(client(settings, store), name)
            for name in ("cora", "audrey", "mia", "max", "eve")}


@pytest.mark.parametrize("path", ["/flags", "/flags/1", "/export/flags.csv", "/reports"])
def test_anonymous_users_are_redirected_to_sign_in(env, path):
    c = client(env[0], env[1])
    r = c.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


def test_wrong_password_is_refused_and_audited(env):
    settings, store, _ = env
    c = client(settings, store)
    token = csrf_of(c)
    r = c.post("/login", data={"username": "cora", "password": "nope-nope-nope",
                               "csrf_token": token})
    assert r.status_code == 401
    assert "Wrong username or password" in r.text
    assert c.get("/flags").status_code == 303
    with store.session() as s:
        n = s.scalar(select(func.count()).where(AuditEventRow.action == "auth.failed"))
    assert n >= 1


def test_session_cookie_is_httponly_and_samesite(env):
    settings, store, _ = env
    c = client(settings, store)
    token = csrf_of(c)
    r = c.post("/login", data={"username": "cora", "password": "correct horse battery",
                               "csrf_token": token})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.replace("samesite", "")


def test_secure_cookie_when_configured(env, tmp_path):
    _, store, _ = env
    secure = settings_from_dict({"store": {"url": store.url}, "web": {"secure_cookies": True}})
    c = TestClient(__import__("monitor.web", fromlist=["create_app"]).create_app(secure, store),
                   base_url="https://testserver", follow_redirects=False)
    token = csrf_of(c)
    r = c.post("/login", data={"username": "cora", "password": "correct horse battery",
                               "csrf_token": token})
    assert "; secure" in r.headers["set-cookie"].lower()


def test_manager_sees_whole_chain_of_own_team_only(env, clients):
    _, _, w = env
    mia = clients["mia"]
    assert mia.get(f"/flags/{w.flags['eve']}").status_code == 200
    assert mia.get(f"/flags/{w.flags['ed']}").status_code == 200  # a report's report
    page = mia.get("/flags").text
    assert f'href="/flags/{w.flags["olga"]}"' not in page
    assert f'href="/flags/{w.flags["ed"]}"' in page


@pytest.fixture
def fresh_env(store_settings: Settings, store: Store) -> tuple[Settings, Store, World]:
    """A world of its own, on SQLite and on PostgreSQL, for a test that changes it."""
    return store_settings, store, build_world(store)


def test_managers_see_their_whole_chain_at_any_depth_and_nothing_else(fresh_env):
    settings, store, w = fresh_env
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


def test_manager_asking_for_another_teams_flag_gets_404(env, clients):
    _, _, w = env
    r = clients["mia"].get(f"/flags/{w.flags['olga']}")
    missing = clients["mia"].get("/flags/987654")
    assert r.status_code == 404 and missing.status_code == 404
    assert "Olga" not in r.text and "Globex" not in r.text
    assert clients["max"].get(f"/flags/{w.flags['eve']}").status_code == 404


def test_employee_sees_only_own_data(env, clients):
    _, _, w = env
    eve = clients["eve"]
    assert eve.get(f"/flags/{w.flags['eve']}").status_code == 200
    assert eve.get(f"/flags/{w.flags['ed']}").status_code == 404
    assert eve.get(f"/flags/{w.flags['olga']}").status_code == 404
    listing = eve.get("/flags").text
    assert f'href="/flags/{w.flags["ed"]}"' not in listing
    assert eve.get("/export/flags.csv").status_code == 404
    assert eve.get("/reports").status_code == 404


def test_employee_cannot_review_even_own_flag(env, clients):
    _, store, w = env
    eve = clients["eve"]
    token = csrf_of(eve, f"/flags/{w.flags['eve']}")
    r = eve.post(f"/flags/{w.flags['eve']}/review",
                 data={"action": "dismiss", "reason": "mine", "csrf_token": token})
    assert r.status_code == 404
    with store.session() as s:
        assert s.get(FlagRow, w.flags["eve"]).status == "open"


def test_manager_cannot_review_another_teams_flag(env, clients):
    _, store, w = env
    mia = clients["mia"]
    token = csrf_of(mia, "/flags")
    r = mia.post(f"/flags/{w.flags['olga']}/review",
                 data={"action": "acknowledge", "reason": "", "csrf_token": token})
    assert r.status_code == 404
    r = mia.post("/flags/bulk", data={"ids": [str(w.flags["olga"])], "action": "acknowledge",
                                      "csrf_token": token})
    assert "not found" in r.text
    with store.session() as s:
        assert s.get(FlagRow, w.flags["olga"]).status == "open"


def test_auditor_reads_everything_but_cannot_review_or_hold(env, clients):
    _, store, w = env
    aud = clients["audrey"]
    for key in ("eve", "ed", "olga"):
        assert aud.get(f"/flags/{w.flags[key]}").status_code == 200
    token = csrf_of(aud, "/flags")
    fid = w.flags["olga"]
    assert aud.post(f"/flags/{fid}/review", data={"action": "dismiss", "reason": "x",
                                                  "csrf_token": token}).status_code == 404
    assert aud.post(f"/flags/{fid}/hold", data={"hold": "1", "reason": "x",
                                                "csrf_token": token}).status_code == 404
    assert aud.get("/export/flags.json").status_code == 200
    assert aud.get("/reports").status_code == 200


def test_form_without_or_with_wrong_csrf_token_is_403(env, clients):
    _, store, w = env
    cora = clients["cora"]
    fid = w.flags["olga"]
    assert cora.post(f"/flags/{fid}/review", data={"action": "acknowledge"}).status_code == 403
    bad = cora.post(f"/flags/{fid}/review",
                    data={"action": "acknowledge", "csrf_token": "forged"})
    assert bad.status_code == 403
    assert cora.post("/flags/bulk", data={"ids": [str(fid)], "action": "resolve"}).status_code \
        == 403
    anon = client(env[0], store)
    anon.get("/login")
    assert anon.post("/login", data={"username": "cora", "password": "correct horse battery"}
                     ).status_code == 403
    with store.session() as s:
        assert s.get(FlagRow, fid).status == "open"


def test_every_flag_view_is_an_audit_event(env, clients):
    _, store, w = env
    with store.session() as s:
        before = s.scalar(select(func.count()).where(AuditEventRow.action == "flag.view"))
    clients["audrey"].get(f"/flags/{w.flags['ed']}")
    with store.session() as s:
        views = list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == "flag.view")
                               .order_by(AuditEventRow.id)))
    assert len(views) == before + 1
    assert views[-1].actor == "audrey" and views[-1].subject_id == str(w.flags["ed"])


def test_security_headers_are_set(env, clients):
    r = clients["cora"].get("/flags")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_sign_in_next_cannot_redirect_off_site(env):
    settings, store, _ = env
    c = client(settings, store)
    token = csrf_of(c)
    r = c.post("/login", data={"username": "cora", "password": "correct horse battery",
                               "csrf_token": token, "next": "//evil.example/x"})
    assert r.headers["location"] == "/flags"


def test_error_pages_keep_the_navigation_of_whoever_is_signed_in(env, clients):
    settings, store, _ = env
    page = clients["mia"].get("/flags/999999")
    assert page.status_code == 404
    assert '<a href="/check">Check a draft</a>' in page.text and "Sign out" in page.text
    assert "mia · manager" in page.text
    bad = clients["cora"].get("/flags", params={"category": "bogus"})
    assert bad.status_code == 400
    assert '<a href="/reports">Reports</a>' in bad.text and "cora · compliance" in bad.text
    anonymous = client(settings, store).get("/no-such-page")
    assert anonymous.status_code == 404
    assert "Sign out" not in anonymous.text and "Check a draft" not in anonymous.text
