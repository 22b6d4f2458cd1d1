"""Single sign-on through a fake OpenID provider: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from monitor.config import settings_from_dict
from monitor.errors import ConfigError
from monitor.store import Store
from monitor.store.schema import AuditEventRow
from monitor.web import create_app
from tests import factories as fx

CLIENT_ID = "socialguide-dashboard"
SECRET = "s3cret-" + "x" * 24  # looked for in the logs


@dataclass
class Provider:
    """What the fake provider signs; tests change a field to make one thing wrong."""

    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    email: str = "cora@example.com"
    audience: str = CLIENT_ID
    nonce: str | None = None  # None: echo the one from the authorization request
    expires_in: int = 300
    sign_with: Any = None  # another key: a bad signature
    issuer: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)

    def id_token(self, req: dict[str, str]) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "u-1", "aud": self.audience, "iat": now,
                  "exp": now + self.expires_in, "email": self.email, "email_verified": True,
                  "nonce": req["nonce"] if self.nonce is None else self.nonce}
        return jwt.encode(claims, self.sign_with or self.key, algorithm="RS256",
                          headers={"kid": "k1"})


def _handler(p: Provider) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *_a: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, {
                    "issuer": p.issuer, "authorization_endpoint": p.issuer + "/authorize",
                    "token_endpoint": p.issuer + "/token", "jwks_uri": p.issuer + "/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                })
            elif url.path == "/jwks":
                jwk = json.loads(RSAAlgorithm.to_jwk(p.key.public_key()))
                self._json(200, {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
            elif url.path == "/authorize":
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_urlsafe(16)
                p.codes[code] = q
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" +
                                 urlencode({"code": code, "state": q["state"]}))
                self.end_headers()
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            auth = self.headers.get("Authorization", "")
            p.token_requests.append({"form": form, "auth": auth})
            want = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            req = p.codes.pop(form.get("code", ""), None)
            if auth != want:
                return self._json(401, {"error": "invalid_client"})
            challenge = base64.urlsafe_b64encode(hashlib.sha256(
                form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
            if req is None or challenge != req["code_challenge"] \
                    or form.get("redirect_uri") != req["redirect_uri"]:
                return self._json(400, {"error": "invalid_grant"})
            self._json(200, {"access_token": "at", "token_type": "Bearer",
                             "id_token": p.id_token(req)})

    return H


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(p))
    p.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield p
    server.shutdown()
    server.server_close()


@pytest.fixture
def sso(provider: Provider, fresh_store: Store, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SOCIALGUIDE_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOCIALGUIDE_OIDC_CLIENT_SECRET", SECRET)
    with fresh_store.session() as s:
        fx.user(s, "cora@example.com", "compliance")
        mia = fx.person(s, "mia@example.com", team="Sales", name="Mia Manager")
        fx.user(s, "mia@example.com", "manager", mia)
    settings = settings_from_dict({"store": {"url": fresh_store.url},
                                   "web": {"oidc_issuer": provider.issuer}})
    return TestClient(create_app(settings, fresh_store), follow_redirects=False)


def _sso_sign_in(c: TestClient, state: str | None = None) -> httpx.Response:
    """Login link -> provider's authorize endpoint -> callback, redirects followed by hand."""
    r = c.get("/auth/oidc/login", params={"next": "/reports"})
    assert r.status_code == 303, r.text
    auth_url = r.headers["location"]
    q = parse_qs(urlsplit(auth_url).query)
    assert q["code_challenge_method"] == ["S256"] and q["nonce"] and q["state"]
    r = httpx.get(auth_url, follow_redirects=False)
    assert r.status_code == 302
    back = urlsplit(r.headers["location"])
    assert back.path == "/auth/oidc/callback"
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    if state is not None:
        params["state"] = state
    return c.get(back.path, params=params)


def _audit(store: Store, action: str) -> list[AuditEventRow]:
    with store.session() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def test_login_page_offers_sso_and_keeps_passwords(sso):
    page = sso.get("/login").text
    assert "Sign in with SSO" in page and 'name="password"' in page


def test_sso_signs_in_known_user_with_their_role(sso, fresh_store, caplog):
    caplog.set_level(logging.DEBUG)
    r = _sso_sign_in(sso)
    assert r.status_code == 303 and r.headers["location"] == "/reports"
    assert sso.get("/reports").status_code == 200  # compliance sees reports
    entries = _audit(fresh_store, "auth.signed_in")
    assert [(e.actor, e.details) for e in entries] == [("cora@example.com", {"method": "oidc"})]
    assert SECRET not in caplog.text


def test_sso_manager_keeps_manager_role(sso, provider):
    provider.email = "MIA@example.com"
    assert _sso_sign_in(sso).status_code == 303
    assert sso.get("/flags").status_code == 200
    assert sso.get("/reports").status_code == 404  # managers do not see reports


@pytest.mark.parametrize("wrong", ["nonce", "audience", "expired", "signature"])
def test_bad_id_token_is_refused(sso, provider, fresh_store, wrong, caplog):
    caplog.set_level(logging.DEBUG)
    if wrong == "nonce":
        provider.nonce = "not-the-nonce"
    elif wrong == "audience":
        provider.audience = "someone-else"
    elif wrong == "expired":
        provider.expires_in = -3600
    else:
        provider.sign_with = rsa.generate_private_key(65537, 2048)
    r = _sso_sign_in(sso)
    assert r.status_code == 403 and "Sign-in refused" in r.text
    assert sso.get("/flags").status_code == 303  # still anonymous
    assert _audit(fresh_store, "auth.signed_in") == []
    [refusal] = _audit(fresh_store, "auth.sso_refused")
    assert wrong[:5] in refusal.details["reason"]
    assert SECRET not in caplog.text


def test_wrong_state_is_refused_before_the_code_is_used(sso, provider, fresh_store):
    r = _sso_sign_in(sso, state="forged")
    assert r.status_code == 403
    assert provider.token_requests == []
    assert "state" in _audit(fresh_store, "auth.sso_refused")[0].details["reason"]
    assert sso.get("/flags").status_code == 303


def test_callback_without_a_started_flow_is_refused(sso, provider):
    r = sso.get("/auth/oidc/callback", params={"code": "x", "state": "y"})
    assert r.status_code == 403 and "not started here" in r.text
    assert provider.token_requests == []


def test_unknown_email_is_refused_and_audited(sso, provider, fresh_store, caplog):
    caplog.set_level(logging.DEBUG)
    provider.email = "stranger@example.com"
    r = _sso_sign_in(sso)
    assert r.status_code == 403
    assert "stranger@example.com has no dashboard account" in r.text
    [refusal] = _audit(fresh_store, "auth.sso_refused")
    assert refusal.actor == "stranger@example.com" and refusal.details == {"reason":
                                                                           "unknown user"}
    assert sso.get("/flags").status_code == 303
    assert SECRET not in caplog.text


def test_secret_only_goes_to_the_token_endpoint(sso, provider, caplog):
    caplog.set_level(logging.DEBUG)
    r = sso.get("/auth/oidc/login")
    assert SECRET not in r.headers["location"]
    _sso_sign_in(sso)
    [req] = provider.token_requests
    assert SECRET not in json.dumps(req["form"]) and req["auth"].startswith("Basic ")
    assert SECRET not in caplog.text


def test_missing_client_secret_is_a_config_error(fresh_store, monkeypatch):
    monkeypatch.setenv("SOCIALGUIDE_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.delenv("SOCIALGUIDE_OIDC_CLIENT_SECRET", raising=False)
    settings = settings_from_dict({"store": {"url": fresh_store.url},
                                   "web": {"oidc_issuer": "https://login.example.com"}})
    with pytest.raises(ConfigError, match="SOCIALGUIDE_OIDC_CLIENT_SECRET"):
        create_app(settings, fresh_store)


def test_sso_link_absent_without_issuer(settings, fresh_store):
    c = TestClient(create_app(settings, fresh_store), follow_redirects=False)
    assert "Sign in with SSO" not in c.get("/login").text
    assert c.get("/auth/oidc/login").status_code == 404


def test_sso_only_user_from_the_cli_signs_in_by_sso_never_by_password(
    provider, fresh_store, monkeypatch, tmp_path
):
    from typer.testing import CliRunner

    from monitor.cli import app as cli

    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{fresh_store.url}"\n[web]\noidc_issuer = "{provider.issuer}"\n')
    res = CliRunner().invoke(cli, ["users", "add", "cora@example.com", "--role", "compliance",
                                   "--sso", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    monkeypatch.setenv("SOCIALGUIDE_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOCIALGUIDE_OIDC_CLIENT_SECRET", SECRET)
    settings = settings_from_dict({"store": {"url": fresh_store.url},
                                   "web": {"oidc_issuer": provider.issuer}})
    c = TestClient(create_app(settings, fresh_store), follow_redirects=False)
    from monitor.compliance.users import authenticate

    with fresh_store.session() as s:
        assert authenticate(s, "cora@example.com", "") is None
        assert authenticate(s, "cora@example.com", "anything-at-all") is None
    assert _sso_sign_in(c).status_code == 303
    assert c.get("/reports").status_code == 200
    # Without an issuer configured, an SSO-only user cannot be created.
    plain = tmp_path / "plain.toml"
    plain.write_text(f'[store]\nurl = "{fresh_store.url}"\n')
    res = CliRunner().invoke(cli, ["users", "add", "x@example.com", "--role", "auditor", "--sso",
                                   "-c", str(plain)])
    assert res.exit_code != 0 and "oidc_issuer" in res.output
