"""The dashboard's role matrix, generated from its routes: every route x every role.

A route that is not in ``MATRIX`` fails ``test_every_route_has_a_decided_role_matrix``, so a
new page cannot ship without someone deciding who may use it; each decision is then tried
for real against the app with a signed-in client per role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from monitor.config import Settings, settings_from_dict
from monitor.store import Store
from monitor.store.schema import FlagRow
from monitor.web import create_app
from tests.web_support import World, build_world, client, csrf_of, sign_in

ROLES = ("anonymous", "compliance", "auditor", "manager", "employee")
USERS = {"compliance": "cora", "auditor": "audrey", "manager": "mia", "employee": "eve"}

OPEN = "open"  # answers anyone, signed in or not (never a 500)
OK = "ok"  # served (a 2xx/3xx, or a 400 about the input: the role got past the checks)
LOGIN = "login"  # 303 to the sign-in page
HIDDEN = "hidden"  # 404, exactly like a flag that does not exist
TOKEN = "token"  # 401: the integration API takes its own bearer tokens, never a session


def _signed_only(**overrides: str) -> dict[str, str]:
    out = {"anonymous": LOGIN, "compliance": OK, "auditor": OK, "manager": OK, "employee": OK}
    out.update(overrides)
    return out


EVERYONE = dict.fromkeys(ROLES, OPEN)
REVIEWERS = _signed_only(auditor=HIDDEN, employee=HIDDEN)
COMPLIANCE_ONLY = _signed_only(auditor=HIDDEN, manager=HIDDEN, employee=HIDDEN)
SEE_ALL = _signed_only(manager=HIDDEN, employee=HIDDEN)

# (method, route path) -> role -> outcome. The flag asked for is Eve's (Mia's report), so
# every signed-in role may see it; what differs is what each may do.
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/static/{path:path}"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/auth/oidc/login"): EVERYONE,
    ("GET", "/auth/oidc/callback"): EVERYONE,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/flags"): _signed_only(),
    ("POST", "/flags/bulk"): REVIEWERS,
    ("GET", "/flags/{flag_id:int}"): _signed_only(),
    ("POST", "/flags/{flag_id:int}/review"): REVIEWERS,
    ("POST", "/flags/{flag_id:int}/reveal"): REVIEWERS,
    ("POST", "/flags/{flag_id:int}/reveal-secret"): COMPLIANCE_ONLY,
    ("POST", "/flags/{flag_id:int}/hold"): COMPLIANCE_ONLY,
    ("POST", "/flags/{flag_id:int}/findings/{finding_id:int}/verdict"): REVIEWERS,
    ("GET", "/export/flags.{fmt}"): _signed_only(employee=HIDDEN),
    ("GET", "/reports"): SEE_ALL,
    ("GET", "/reports/report.csv"): SEE_ALL,
    ("GET", "/check"): _signed_only(),
    ("POST", "/check"): _signed_only(),
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("POST", "/api/v1/check"): dict.fromkeys(ROLES, TOKEN),
}

FORMS = {
    "/flags/bulk": {"action": "acknowledge", "reason": "role matrix"},
    "/flags/{flag_id:int}/review": {"action": "acknowledge", "reason": "role matrix"},
    "/flags/{flag_id:int}/reveal": {"reason": "role matrix check"},
    "/flags/{flag_id:int}/reveal-secret": {"reason": "role matrix check"},
    "/flags/{flag_id:int}/hold": {"hold": "1", "reason": "role matrix"},
    "/flags/{flag_id:int}/findings/{finding_id:int}/verdict": {"verdict": "confirmed"},
    "/check": {"text": "hello there"},
    "/login": {"username": "nobody", "password": "not it at all"},
}


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, mounts and included routers included."""
    yield from _walk(app.routes, "")


def _walk(items: list[BaseRoute], prefix: str) -> Iterator[tuple[str, str]]:
    for r in items:
        if isinstance(r, Mount):
            sub = getattr(r.app, "routes", None)
            if sub is None:  # static files: one catch-all route
                yield "GET", prefix + r.path + "/{path:path}"
            else:
                yield from _walk(list(sub), prefix + r.path)
            continue
        path = getattr(r, "path", None)
        if path is None:  # an included router
            inner = getattr(r, "original_router", r)
            yield from _walk(list(getattr(inner, "routes", [])), prefix)
            continue
        for method in sorted(set(getattr(r, "methods", None) or ()) - {"HEAD"}):
            yield method, prefix + path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store, World]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'sg.db'}"
    settings = settings_from_dict({"store": {"url": url}}, source="test")
    store = Store(url)
    w = build_world(store)
    yield settings, store, w
    store.dispose()


def test_every_route_has_a_decided_role_matrix(world):
    settings, store, _ = world
    found = set(routes(create_app(settings, store)))
    missing = sorted(found - set(MATRIX))
    assert not missing, (f"routes without a role decision: {missing}; add each to MATRIX in "
                         "tests/security/test_role_matrix.py with what every role may do")
    stale = sorted(set(MATRIX) - found)
    assert not stale, f"MATRIX names routes the app no longer has: {stale}"


def _concrete(path: str, flag_id: int, finding_id: int) -> str:
    return (path.replace("{flag_id:int}", str(flag_id)).replace("{fmt}", "csv")
            .replace("{finding_id:int}", str(finding_id)).replace("{path:path}", "style.css"))


def _outcome(r: Any) -> str:
    if r.status_code == 303 and r.headers.get("location", "").startswith("/login"):
        return LOGIN
    if r.status_code == 404:
        return HIDDEN
    if r.status_code == 401:
        return TOKEN
    assert r.status_code < 500, r.text[:300]
    if r.status_code == 403:
        return "forbidden"
    return OK


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_route_answers_each_role_as_decided(world, method, path, role):
    settings, store, w = world
    want = MATRIX[(method, path)][role]
    c: TestClient = client(settings, store)
    if role != "anonymous":
        sign_in(c, USERS[role])
    with store.session() as s:
        finding_id = s.get(FlagRow, w.flags["eve"]).findings[0].id
    url = _concrete(path, w.flags["eve"], finding_id)
    if method == "GET":
        r = c.get(url)
    else:
        form = dict(FORMS.get(path, {}))
        form["csrf_token"] = csrf_of(c, "/login" if role == "anonymous" else "/check")
        if path == "/flags/bulk":
            form["ids"] = str(w.flags["eve"])
        if path.startswith("/api/"):
            r = c.post(url, json={"text": "hello there"})
        else:
            r = c.post(url, data=form)
    if want == OPEN:
        assert r.status_code < 500, (method, path, role, r.text[:300])
    else:
        got = _outcome(r)
        assert got == want, f"{method} {path} as {role}: {r.status_code}, expected {want}"
