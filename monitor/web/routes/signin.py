"""Signing in and out: password sign-in behind the throttle, single sign-on, sign-out.

Every outcome is audited; a fresh session (and CSRF token) starts on every sign-in.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.compliance.users import Viewer, authenticate, viewer_of
from monitor.errors import NotFoundError
from monitor.store import sign_in_throttle as throttle
from monitor.store import web_sessions as sessions
from monitor.store.audit import record
from monitor.store.schema import UserRow
from monitor.store.users import user_by_email
from monitor.web.deps import Context, WebContext, safe_next
from monitor.web.oidc import CALLBACK_PATH, Flow, OidcError, email_of
from monitor.web.security import checked_form, csrf_token

log = logging.getLogger(__name__)
WRONG_PASSWORD = "Wrong username or password."

router = APIRouter()


@router.get("/login")
def login_form(request: Request, web: Context, next: str = "/flags") -> Response:
    """The sign-in form, with a single sign-on link when a provider is configured."""
    return web.page(request, "login.html", next=safe_next(next), error=None, sso=web.sso)


@router.post("/login")
async def login(request: Request, web: Context) -> Response:
    """Check a password unless the throttle has locked the name or the address out."""
    form = await checked_form(request)
    username = str(form.get("username", ""))[:320]
    password = str(form.get("password", ""))[:1024]
    nxt = safe_next(str(form.get("next", "/flags")))

    address = request.client.host if request.client else None

    def check() -> Viewer | str:
        with web.store.session() as s:
            now = web.clock()
            lock = throttle.locked(s, username, address, now)
            if lock is not None:  # refused without looking at the password
                record(s, username or "(empty)", "auth.refused_locked", "user", None,
                       {"locked": lock.what, "address": address})
                return lock.message(now)
            user = authenticate(s, username, password)
            if user is None:
                started = throttle.failed(s, username, address, now)
                record(s, username or "(empty)", "auth.failed", "user", None,
                       {"address": address})
                if started is not None:
                    record(s, username or "(empty)", "auth.locked", "user", None,
                           {"locked": started.what, "address": address,
                            "until": started.until.isoformat()})
                    return started.message(now)
                return WRONG_PASSWORD
            throttle.succeeded(s, username)
            record(s, user.username, "auth.signed_in", "user", user.id, {})
            return viewer_of(user)

    out = await run_in_threadpool(check)
    if isinstance(out, str):
        status = 401 if out == WRONG_PASSWORD else 429  # else: locked
        return web.page(request, "login.html", status, next=nxt, sso=web.sso, error=out)
    return await run_in_threadpool(_signed_in, web, request, out, nxt)


def _signed_in(web: WebContext, request: Request, viewer: Viewer, nxt: str) -> Response:
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    with web.store.session() as s:
        sid = sessions.start(s, viewer.user_id, web.lifetime)
    request.session.update(sid=sid)
    csrf_token(request)
    return RedirectResponse(nxt, status_code=303)


# -- single sign-on (OpenID Connect) -------------------------------------------------------


def _sso_refused(web: WebContext, request: Request, message: str) -> Response:
    return web.page(request, "error.html", 403, title="Sign-in refused", message=message)


# A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to
# the provider, and starting a sign-in changes nothing the state check does not guard.
@router.get("/auth/oidc/login")
async def oidc_login(request: Request, web: Context, next: str = "/flags") -> Response:
    """Send the browser to the identity provider, keeping state, nonce and verifier."""
    sso = web.sso
    if sso is None:
        raise NotFoundError("single sign-on is not configured")
    nxt = safe_next(next)
    redirect_uri = sso.callback_url(str(request.base_url))
    try:
        url, flow = await run_in_threadpool(sso.start, redirect_uri, nxt)
    except OidcError as exc:
        log.warning("single sign-on unavailable: %s", exc)
        return web.page(request, "error.html", 502, title="Single sign-on unavailable",
                        message="The identity provider did not answer. Try again later.")
    request.session["oidc"] = flow.as_dict()
    return RedirectResponse(url, status_code=303)


@router.get(CALLBACK_PATH)
async def oidc_callback(request: Request, web: Context) -> Response:
    """Finish single sign-on: a verified email that matches an enabled dashboard user."""
    sso = web.sso
    if sso is None:
        raise NotFoundError("single sign-on is not configured")
    flow = Flow.from_dict(request.session.pop("oidc", None))  # single use
    if flow is None:
        return _sso_refused(web, request, "This sign-in was not started here or has already "
                                          "been used. Start again from the sign-in page.")
    params = {k: v[:4096] for k, v in request.query_params.items()}
    redirect_uri = sso.callback_url(str(request.base_url))

    def check() -> Viewer | str:
        try:
            claims = sso.finish(flow, params, redirect_uri)
            email = email_of(claims)
        except OidcError as exc:
            log.warning("single sign-on refused: %s", exc)
            with web.store.session() as s:
                record(s, "(sso)", "auth.sso_refused", "user", None, {"reason": str(exc)})
            return "The identity provider's answer could not be verified. " \
                   "Start again from the sign-in page."
        with web.store.session() as s:
            user = user_by_email(s, email)
            if user is None or user.disabled:
                why = "unknown user" if user is None else "disabled user"
                record(s, email, "auth.sso_refused", "user",
                       user.id if user else None, {"reason": why})
                return f"{email} has no dashboard account here. Ask a compliance " \
                       "administrator to add one with `socialguide users add`."
            record(s, user.username, "auth.signed_in", "user", user.id, {"method": "oidc"})
            return viewer_of(user)

    out = await run_in_threadpool(check)
    if isinstance(out, str):
        return _sso_refused(web, request, out)
    return await run_in_threadpool(_signed_in, web, request, out, safe_next(flow.next))


@router.post("/logout")
async def logout(request: Request, web: Context) -> Response:
    """End the session in the store as well as in the cookie, and audit who left."""
    await checked_form(request)
    sid = request.session.get("sid")

    def end() -> None:
        with web.store.session() as s:
            uid = sessions.user_of(s, sid, web.lifetime)
            if sessions.end(s, sid) and uid is not None:
                user = s.get(UserRow, uid)
                record(s, user.username if user else str(uid), "auth.signed_out", "user",
                       uid, {})

    await run_in_threadpool(end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
