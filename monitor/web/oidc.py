"""OpenID Connect sign-in: authorization code with PKCE, state and nonce; ID token checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from jwt import PyJWKSet

from monitor.config import WebSettings
from monitor.errors import ConfigError, SocialGuideError

log = logging.getLogger(__name__)

CALLBACK_PATH = "/auth/oidc/callback"
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60
_TIMEOUT = httpx.Timeout(10.0)


class OidcError(SocialGuideError):
    """The provider's answer was refused; the message is safe to show and to log."""


@dataclass(frozen=True, slots=True)
class Flow:
    """What the session keeps between the redirect and the callback (single use)."""

    state: str
    nonce: str
    verifier: str
    next: str

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier,
                "next": self.next}

    @classmethod
    def from_dict(cls, d: Any) -> Flow | None:
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str) for k in
                                              ("state", "nonce", "verifier", "next")):
            return None
        return cls(d["state"], d["nonce"], d["verifier"], d["next"])


class OidcClient:
    """One configured provider; discovery and keys are fetched on first use and cached."""

    def __init__(self, web: WebSettings) -> None:
        self.issuer = web.oidc_issuer.strip()
        _check_url(self.issuer, "oidc_issuer")
        self.redirect_url = web.oidc_redirect_url.strip()
        if self.redirect_url:
            _check_url(self.redirect_url, "oidc_redirect_url")
        self.client_id = os.environ.get(web.oidc_client_id_env, "")
        self._secret_env = web.oidc_client_secret_env
        if not self.client_id:
            raise ConfigError(f"environment variable {web.oidc_client_id_env} (the OIDC client "
                              "id) is not set", key="web.oidc_client_id_env")
        if not os.environ.get(self._secret_env, ""):
            raise ConfigError(f"environment variable {self._secret_env} (the OIDC client "
                              "secret) is not set", key="web.oidc_client_secret_env")
        self._meta: dict[str, Any] | None = None
        self._keys: PyJWKSet | None = None
        self._lock = threading.Lock()

    # -- provider metadata ------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The discovery document, checked to name the configured issuer."""
        with self._lock:
            if self._meta is None:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                meta = _get_json(url, "discovery document")
                if meta.get("issuer") != self.issuer:
                    raise OidcError(f"discovery document names issuer {meta.get('issuer')!r}, "
                                    f"not the configured {self.issuer!r}")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(meta.get(key), str):
                        raise OidcError(f"discovery document has no {key}")
                self._meta = meta
            return self._meta

    def _signing_key(self, kid: str | None) -> Any:
        """The provider key for this token; keys are fetched again once for an unknown kid."""
        jwks_uri = self.metadata()["jwks_uri"]
        for refresh in (False, True):
            with self._lock:
                if self._keys is None or refresh:
                    try:
                        self._keys = PyJWKSet.from_dict(_get_json(jwks_uri, "JWKS"))
                    except jwt.PyJWTError as exc:
                        raise OidcError(f"the provider's JWKS is unusable ({exc})") from None
                keys = [k for k in self._keys.keys
                        if k.key_type == "RSA" and (kid is None or k.key_id == kid)]
            if kid is None and len(keys) > 1:
                raise OidcError("the ID token names no key (kid) and the provider has several")
            if keys:
                return keys[0].key
        raise OidcError("the ID token is signed with a key the provider does not publish")

    # -- the flow ---------------------------------------------------------------------------

    def callback_url(self, base_url: str) -> str:
        return self.redirect_url or base_url.rstrip("/") + CALLBACK_PATH

    def start(self, redirect_uri: str, next_path: str) -> tuple[str, Flow]:
        """The provider's authorization URL and the flow to keep in the session."""
        meta = self.metadata()
        flow = Flow(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                    secrets.token_urlsafe(64), next_path)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(flow.verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": "openid email", "state": flow.state, "nonce": flow.nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        sep = "&" if "?" in meta["authorization_endpoint"] else "?"
        return meta["authorization_endpoint"] + sep + urlencode(params), flow

    def finish(self, flow: Flow, params: dict[str, str], redirect_uri: str) -> dict[str, Any]:
        """The verified ID token claims for the provider's callback parameters."""
        if "error" in params:
            raise OidcError(f"the provider refused the sign-in ({params['error'][:100]})")
        state = params.get("state", "")
        if not state or not hmac.compare_digest(state, flow.state):
            raise OidcError("the sign-in answer does not belong to this browser (state)")
        code = params.get("code", "")
        if not code:
            raise OidcError("the provider sent no authorization code")
        id_token = self._exchange(code, flow.verifier, redirect_uri)
        return self.verify(id_token, flow.nonce)

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        meta = self.metadata()
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        secret = os.environ.get(self._secret_env, "")
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: httpx.Auth | None = None
        if "client_secret_basic" in methods:
            auth = httpx.BasicAuth(self.client_id, secret)
        else:
            data.update(client_id=self.client_id, client_secret=secret)
        try:
            with httpx.Client(timeout=_TIMEOUT) as http:
                r = http.post(meta["token_endpoint"], data=data,
                              auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                              headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcError(f"the token endpoint did not answer ({type(exc).__name__})") from None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or not isinstance(body, dict):
            err = body.get("error", "") if isinstance(body, dict) else ""
            raise OidcError(f"the token endpoint answered {r.status_code} {str(err)[:100]}".strip())
        token = body.get("id_token")
        if not isinstance(token, str) or not token:
            raise OidcError("the token endpoint sent no ID token")
        return token

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """Signature (RS256, provider JWKS), issuer, audience, expiry and nonce."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise OidcError("the ID token is malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise OidcError(f"the ID token uses algorithm {header.get('alg')!r}, not RS256")
        key = self._signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=ALGORITHMS, audience=self.client_id,
                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise OidcError("the ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise OidcError("the ID token is for another client (audience)") from None
        except jwt.InvalidIssuerError:
            raise OidcError("the ID token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise OidcError("the ID token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise OidcError(f"the ID token is invalid ({type(exc).__name__})") from None
        azp = claims.get("azp")
        if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and azp != self.client_id:
            raise OidcError("the ID token is for another client (azp)")
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got, nonce):
            raise OidcError("the ID token does not answer this sign-in (nonce)")
        return claims


def email_of(claims: dict[str, Any]) -> str:
    """The signed-in email; a provider that says it is unverified is not trusted."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise OidcError("the provider sent no email address (ask for the 'email' scope)")
    if claims.get("email_verified") is False:
        raise OidcError("the provider says this email address is not verified")
    return email.strip()


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        with httpx.Client(timeout=_TIMEOUT) as http:
            r = http.get(url, headers={"Accept": "application/json"})
        r.raise_for_status()
        data = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"could not read the provider's {what} at {url} "
                        f"({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise OidcError(f"the provider's {what} at {url} is not a JSON object")
    return data


def _check_url(url: str, key: str) -> None:
    """https, except on this machine (a provider for development or tests)."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or (parts.scheme != "https" and not local):
        raise ConfigError(f"expected an https URL, got {url!r}", key=f"web.{key}")
