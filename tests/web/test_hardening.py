"""Attacks on the dashboard that once worked: out-of-range dates and numbers, a cut-short export
passed off as whole, unlimited password guessing, a cookie that outlived sign-out, and a
post's ``javascript:`` link."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text

from monitor.domain import utcnow
from monitor.store import sign_in_throttle as throttle
from monitor.store import web_sessions as sessions
from monitor.store.schema import AuditEventRow, FlagRow, PostRow, SignInThrottleRow, WebSessionRow
from tests import factories as fx
from tests.live_server import serving, signed_in
from tests.web_support import build_world, client, csrf_of, sign_in


@pytest.fixture
def env(settings, fresh_store):
    return settings, fresh_store, build_world(fresh_store)


@pytest.fixture
def cora(env):
    return sign_in(client(env[0], env[1]), "cora")


def _actions(store, action: str) -> list[AuditEventRow]:
    with store.session() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)
                              .order_by(AuditEventRow.id)))


# --- dates and numbers -----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/flags", "/export/flags.csv", "/export/flags.json"])
@pytest.mark.parametrize("params", [
    {"until": "9999-12-31"}, {"since": "9999-12-31"}, {"since": "0001-01-01"},
    {"until": "1969-12-31"}, {"since": "２０２６-01-01"}, {"until": "2026-0١-01"},
])
def test_out_of_range_dates_are_a_400_naming_the_parameter(cora, path, params):
    r = cora.get(path, params=params)
    assert r.status_code == 400, r.text[:300]
    (key,) = params
    assert f"parameter &#39;{key}&#39;" in r.text
    assert "1970-01-01" in r.text or "YYYY-MM-DD" in r.text


def test_a_refused_export_is_not_audited_as_an_export(env, cora):
    cora.get("/export/flags.csv", params={"until": "9999-12-31"})
    assert _actions(env[1], "flags.export") == []


@pytest.mark.parametrize("limit", ["²", "٣", "１０", "0", "201", "99999999999999999999", " 5",
                                   "5.0", "+5"])
def test_limits_take_ascii_digits_in_range_only(cora, limit):
    r = cora.get("/flags", params={"limit": limit})
    assert r.status_code == 400
    assert "parameter &#39;limit&#39;: expected a whole number from 1 to 200" in r.text


def test_a_good_limit_still_works(env, cora):
    assert cora.get("/flags", params={"limit": "1"}).status_code == 200


@pytest.mark.parametrize("since", ["٣d", "²d", "9999w", "0001-01-01", "9999-12-31"])
def test_report_windows_out_of_range_are_400(cora, since):
    r = cora.get("/reports", params={"since": since})
    assert r.status_code == 400 and "--since" in r.text


@pytest.mark.parametrize("ids", [["²"], ["٣"], ["99999999999"], ["0"], ["-1"]])
def test_bulk_review_ids_are_ascii_numbers_in_range(env, cora, ids):
    token = csrf_of(cora, "/flags")
    r = cora.post("/flags/bulk", data={"ids": ids, "action": "acknowledge",
                                       "csrf_token": token})
    assert r.status_code == 400 and "flag ids must be whole numbers" in r.text


@pytest.mark.parametrize("path", ["/flags/99999999999999999999", "/flags/2147483648"])
def test_flag_ids_beyond_the_key_range_are_404_not_500(cora, path):
    assert cora.get(path).status_code == 404


# --- exports: complete, or visibly failed ------------------------------------------------

def test_a_complete_export_is_audited_as_complete(env, cora):
    r = cora.get("/export/flags.csv")
    assert r.status_code == 200 and r.text.splitlines()[-1].startswith("# rows=3;")
    (start,) = _actions(env[1], "flags.export")
    (done,) = _actions(env[1], "flags.export_complete")
    assert done.details == {"export": start.id, "format": "csv", "rows": 3}
    assert _actions(env[1], "flags.export_failed") == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_that_breaks_off_fails_visibly_and_is_audited_as_failed(env, fmt):
    settings, store, w = env
    # A row the database gives back broken (a JSON column that is not JSON): real corruption,
    # met only once the export has started streaming.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE flags SET categories = 'not json' WHERE id = :i"),
                     {"i": w.flags["olga"]})
    with serving(settings, store) as base:
        c = signed_in(base, "cora")
        got: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError), c.stream(
                "GET", f"/export/flags.{fmt}") as r:
            assert r.status_code == 200  # the headers were already sent
            for chunk in r.iter_text():
                got.append(chunk)
        body = "".join(got)
    assert "# EXPORT FAILED after 0 rows: this file is incomplete" in body
    assert "rows=" not in body.replace("after 0 rows", "")  # no complete trailer
    (start,) = _actions(store, "flags.export")
    (failed,) = _actions(store, "flags.export_failed")
    assert failed.details == {"export": start.id, "format": fmt, "rows": 0,
                              "error": "JSONDecodeError"}
    assert _actions(store, "flags.export_complete") == []


# --- sign-in throttling -------------------------------------------------------------------

def _try(c, username: str, password: str):
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf_token": csrf_of(c), "next": "/flags"})


def test_five_failures_lock_the_account_and_refuse_the_right_password(env):
    settings, store, _ = env
    c = client(settings, store)
    for _ in range(throttle.MAX_PER_ACCOUNT - 1):
        assert _try(c, "cora", "wrong password!").status_code == 401
    r = _try(c, "cora", "wrong password!")
    assert r.status_code == 429
    assert "Too many failed sign-ins for this account" in r.text and "15 more minute" in r.text
    r = _try(c, "cora", fx.PASSWORD)  # the right password, while locked
    assert r.status_code == 429 and "locked" in r.text
    assert c.get("/flags").status_code == 303
    assert len(_actions(store, "auth.locked")) == 1
    refused = _actions(store, "auth.refused_locked")
    assert refused and refused[-1].details["locked"] == "account"
    # Another account from elsewhere is not affected.
    other = client(settings, store)
    assert _try(other, "audrey", fx.PASSWORD).status_code == 303


def test_usernames_that_do_not_exist_lock_the_same_way(env):
    settings, store, _ = env
    c = client(settings, store)
    answers = [_try(c, "nobody@example.com", "whatever pw").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_one_address_trying_many_accounts_is_paused(env):
    settings, store, _ = env
    c = client(settings, store)
    for i in range(throttle.MAX_PER_ADDRESS):
        _try(c, f"spray{i}@example.com", "Winter2026!")
    r = _try(c, "cora", fx.PASSWORD)
    assert r.status_code == 429 and "from this address" in r.text
    assert _actions(store, "auth.failed")[-1].details == {"address": "testclient"}


def test_a_lock_ends_and_a_success_clears_the_count(env):
    _, store, _ = env
    now = utcnow()
    with store.session() as s:
        for _ in range(throttle.MAX_PER_ACCOUNT):
            started = throttle.failed(s, "Cora ", "10.0.0.9", now)
        assert started is not None and started.what == "account"
        assert throttle.locked(s, "cora", None, now + timedelta(minutes=14)) is not None
        assert throttle.locked(s, "cora", None, now + throttle.LOCK + timedelta(seconds=1)) \
            is None
        throttle.failed(s, "mia", None, now)
        throttle.succeeded(s, "mia")
        assert s.get(SignInThrottleRow, "user:mia") is None
        # Failures older than the window start counting again from one.
        later = now + throttle.WINDOW + timedelta(minutes=1)
        for _ in range(throttle.MAX_PER_ACCOUNT - 1):
            assert throttle.failed(s, "eve", None, now) is None
        assert throttle.failed(s, "eve", None, later) is None


# --- sign-out ends the session on the server ----------------------------------------------

def test_a_cookie_replayed_after_sign_out_no_longer_works(env):
    settings, store, _ = env
    c = sign_in(client(settings, store), "cora")
    stolen = dict(c.cookies)
    assert c.get("/flags").status_code == 200
    r = c.post("/logout", data={"csrf_token": csrf_of(c, "/flags")})
    assert r.status_code == 303
    replay = client(settings, store)
    replay.cookies.update(stolen)
    r = replay.get("/flags")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with store.session() as s:
        (row,) = s.scalars(select(WebSessionRow)).all()
    assert row.ended_at is not None
    assert _actions(store, "auth.signed_out")[-1].actor == "cora"


def test_sessions_hold_only_a_hash_and_end_after_their_lifetime(env):
    settings, store, _ = env
    c = sign_in(client(settings, store), "cora")
    lifetime = timedelta(hours=settings.web.session_hours)
    with store.session() as s:
        (row,) = s.scalars(select(WebSessionRow)).all()
        sid = sessions.start(s, row.user_id, lifetime)
        assert s.get(WebSessionRow, sid) is None and len(row.id) == 64
        assert sessions.user_of(s, sid, lifetime) == row.user_id
        assert sessions.user_of(s, sid, lifetime, utcnow() + lifetime + timedelta(1)) is None
        assert sessions.user_of(s, "forged-session-id-000000000", lifetime) is None
    assert c.get("/flags").status_code == 200


def test_a_disabled_user_is_signed_out_at_once(env):
    settings, store, _ = env
    c = sign_in(client(settings, store), "audrey")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE users SET disabled = 1 WHERE username = 'audrey'"))
    assert c.get("/flags").status_code == 303


# --- only http(s) links --------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "\tjavascript:alert(1)", "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)", "//evil.example/x", "https://ok.example/\x00x", "file:///etc/passwd",
])
def test_only_http_links_are_rendered_as_links(env, cora, url):
    _, store, w = env
    with store.session() as s:
        s.get(PostRow, s.get(FlagRow, w.flags["ed"]).post_id).url = url
    page = cora.get(f"/flags/{w.flags['ed']}").text
    dd = page.split('<dd id="post-url">', 1)[1].split("</dd>", 1)[0]
    assert "<a " not in dd and "href" not in dd
    assert "not a web link" in dd


@pytest.mark.parametrize("url", ["https://bsky.app/profile/ed/post/1", "HTTP://example.org/a?b=1"])
def test_http_links_stay_links(env, cora, url):
    _, store, w = env
    with store.session() as s:
        s.get(PostRow, s.get(FlagRow, w.flags["ed"]).post_id).url = url
    page = cora.get(f"/flags/{w.flags['ed']}").text
    assert 'rel="noopener noreferrer nofollow"' in page and "not a web link" not in page


def test_lockout_and_sign_out_hold_on_either_store(store_settings, store):
    build_world(store)
    c = client(store_settings, store)
    answers = [_try(c, "cora", "wrong password!").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    assert _try(c, "cora", fx.PASSWORD).status_code == 429
    signed = sign_in(client(store_settings, store), "audrey")
    stolen = dict(signed.cookies)
    signed.post("/logout", data={"csrf_token": csrf_of(signed, "/flags")})
    replay = client(store_settings, store)
    replay.cookies.update(stolen)
    assert replay.get("/flags").status_code == 303
    with store.session() as s:
        assert s.scalars(select(WebSessionRow)).one().ended_at is not None
