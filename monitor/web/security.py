"""Session key, CSRF tokens and response headers for the dashboard."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets

from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config import WebSettings

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"

# Pages render no inline script; charts are inline SVG.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """ASGI middleware that adds :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    if k not in headers:
                        headers[k] = v
            await send(message)

        await self.app(scope, receive, with_headers)


class CsrfError(Exception):
    """A form arrived without the session's CSRF token."""


def session_key(web: WebSettings) -> str:
    """The signing key from the configured environment variable, or a per-process random one."""
    value = os.environ.get(web.secret_key_env, "") if web.secret_key_env else ""
    if value:
        return value
    log.warning(
        "environment variable %s is not set: using a random session key, so sign-ins "
        "do not survive a restart", web.secret_key_env or "(none configured)",
    )
    return secrets.token_urlsafe(48)


def pseudonym_key(web: WebSettings) -> bytes:
    """Key for pseudonyms: stable across restarts when the session secret is configured."""
    value = os.environ.get(web.secret_key_env, "") if web.secret_key_env else ""
    return hashlib.sha256(b"socialguide-pseudonym:" + value.encode()).digest()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    want = request.session.get("csrf")
    if not isinstance(sent, str) or not want or not hmac.compare_digest(sent, str(want)):
        raise CsrfError
    return form
