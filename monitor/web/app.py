"""The dashboard's routes: sign-in, the flag log, a flag, reviews, exports and reports."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import StreamingResponse
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from monitor.compliance import exports, queries, review
from monitor.compliance.pseudonym import pseudonym
from monitor.compliance.queries import BadQuery, FlagQuery
from monitor.compliance.reports import build_report, parse_since, report_csv
from monitor.compliance.users import Viewer, authenticate, viewer_of
from monitor.config import Settings
from monitor.domain import CATEGORIES, SEVERITY_ORDER, utcnow
from monitor.errors import InputError, NotFoundError
from monitor.masking import SecretKeeping
from monitor.store import Store
from monitor.store import sign_in_throttle as throttle
from monitor.store import web_sessions as sessions
from monitor.store.audit import ChainHead, latest_head, record
from monitor.store.flag_log import filtered
from monitor.store.schema import UserRow
from monitor.store.users import user_by_email
from monitor.web import charts, check_page
from monitor.web.oidc import CALLBACK_PATH, Flow, OidcClient, OidcError, email_of
from monitor.web.security import (
    CSRF_FIELD,
    CsrfError,
    SecurityHeaders,
    checked_form,
    csrf_token,
    pseudonym_key,
    session_key,
)
from monitor.web.views import flag_detail

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "sg_session"
WRONG_PASSWORD = "Wrong username or password."
# No whitespace or control characters anywhere: browsers drop them before reading a scheme.
_HTTP_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f-\x9f]{1,2040}$", re.IGNORECASE)


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in page."""


def create_app(settings: Settings, store: Store) -> FastAPI:
    """Build the dashboard for one store and config."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sso = OidcClient(settings.web) if settings.web.oidc_issuer.strip() else None
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    pkey = pseudonym_key(settings.web)
    keeping = SecretKeeping.from_settings(settings)
    author_label: Callable[[int | None], str] = partial(_pseudonym, key=pkey)
    templates.env.globals.update(
        pseudonym=author_label, categories=CATEGORIES, severities=SEVERITY_ORDER,
        statuses=queries.STATUSES, actions=review.ACTIONS, csrf_field=CSRF_FIELD,
        safe_url=_safe_url,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(settings.web),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web.session_hours * 3600),
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )
    lifetime = timedelta(hours=settings.web.session_hours)

    # A plain ASGI middleware: one built on BaseHTTPMiddleware would end a stream that broke
    # off as if it were complete (see exports.audited).
    app.add_middleware(SecurityHeaders)

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("viewer", None)
        ctx["csrf"] = csrf_token(request)
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def viewer_for(request: Request) -> Viewer:
        sid = request.session.get("sid")
        with store.session() as s:
            uid = sessions.user_of(s, sid, lifetime)
            user = s.get(UserRow, uid) if uid is not None else None
            if user is None or user.disabled:
                request.session.clear()
                raise SignInRequired
            return viewer_of(user)

    # -- errors: clear messages, never a stack trace ------------------------------------

    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, _exc: SignInRequired) -> Response:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": nxt}), status_code=303)

    @app.exception_handler(BadQuery)
    @app.exception_handler(InputError)
    async def _bad(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", 400, title="Bad request", message=str(exc))

    @app.exception_handler(NotFoundError)
    async def _nf(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", 404, title="Not found",
                    message="There is nothing here, or you may not see it.")

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", 403, title="Form expired",
                    message="The form was missing its security token. Reload and try again.")

    @app.exception_handler(404)
    async def _404(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", 404, title="Not found",
                    message="There is nothing here, or you may not see it.")

    @app.exception_handler(405)
    async def _405(request: Request, _exc: Exception) -> Response:
        return PlainTextResponse("method not allowed", status_code=405)

    @app.exception_handler(Exception)
    async def _500(request: Request, exc: Exception) -> Response:
        log.error("dashboard error on %s: %s", request.url.path, type(exc).__name__,
                  exc_info=exc)
        return page(request, "error.html", 500, title="Something went wrong",
                    message="The error was logged.")

    # -- sign-in ---------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/flags", status_code=303)

    @app.get("/healthz")
    def healthz() -> Response:
        return PlainTextResponse("ok")

    @app.get("/login")
    def login_form(request: Request, next: str = "/flags") -> Response:
        return page(request, "login.html", next=_safe_next(next), error=None, sso=sso)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await checked_form(request)
        username = str(form.get("username", ""))[:320]
        password = str(form.get("password", ""))[:1024]
        nxt = _safe_next(str(form.get("next", "/flags")))

        address = request.client.host if request.client else None

        def check() -> Viewer | str:
            with store.session() as s:
                now = utcnow()
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
            return page(request, "login.html", status, next=nxt, sso=sso, error=out)
        return await run_in_threadpool(_signed_in, request, out, nxt)

    def _signed_in(request: Request, viewer: Viewer, nxt: str) -> Response:
        request.session.clear()  # a fresh session (and CSRF token) on every sign-in
        with store.session() as s:
            sid = sessions.start(s, viewer.user_id, lifetime)
        request.session.update(sid=sid)
        csrf_token(request)
        return RedirectResponse(nxt, status_code=303)

    # -- single sign-on (OpenID Connect) ---------------------------------------------------

    def _sso_refused(request: Request, message: str) -> Response:
        return page(request, "error.html", 403, title="Sign-in refused", message=message)

    # A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to
    # the provider, and starting a sign-in changes nothing the state check does not guard.
    @app.get("/auth/oidc/login")
    async def oidc_login(request: Request, next: str = "/flags") -> Response:
        if sso is None:
            raise NotFoundError("single sign-on is not configured")
        nxt = _safe_next(next)
        redirect_uri = sso.callback_url(str(request.base_url))
        try:
            url, flow = await run_in_threadpool(sso.start, redirect_uri, nxt)
        except OidcError as exc:
            log.warning("single sign-on unavailable: %s", exc)
            return page(request, "error.html", 502, title="Single sign-on unavailable",
                        message="The identity provider did not answer. Try again later.")
        request.session["oidc"] = flow.as_dict()
        return RedirectResponse(url, status_code=303)

    @app.get(CALLBACK_PATH)
    async def oidc_callback(request: Request) -> Response:
        if sso is None:
            raise NotFoundError("single sign-on is not configured")
        flow = Flow.from_dict(request.session.pop("oidc", None))  # single use
        if flow is None:
            return _sso_refused(request, "This sign-in was not started here or has already "
                                         "been used. Start again from the sign-in page.")
        params = {k: v[:4096] for k, v in request.query_params.items()}
        redirect_uri = sso.callback_url(str(request.base_url))

        def check() -> Viewer | str:
            try:
                claims = sso.finish(flow, params, redirect_uri)
                email = email_of(claims)
            except OidcError as exc:
                log.warning("single sign-on refused: %s", exc)
                with store.session() as s:
                    record(s, "(sso)", "auth.sso_refused", "user", None, {"reason": str(exc)})
                return "The identity provider's answer could not be verified. " \
                       "Start again from the sign-in page."
            with store.session() as s:
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
            return _sso_refused(request, out)
        return await run_in_threadpool(_signed_in, request, out, _safe_next(flow.next))

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await checked_form(request)
        sid = request.session.get("sid")

        def end() -> None:
            with store.session() as s:
                uid = sessions.user_of(s, sid, lifetime)
                if sessions.end(s, sid) and uid is not None:
                    user = s.get(UserRow, uid)
                    record(s, user.username if user else str(uid), "auth.signed_out", "user",
                           uid, {})

        await run_in_threadpool(end)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- the flag log ----------------------------------------------------------------------

    @app.get("/flags")
    def flag_log(request: Request) -> Response:
        viewer = viewer_for(request)
        params = dict(request.query_params)
        after = params.pop("after", None)
        limit = queries.parse_limit(params.pop("limit", None))
        query = queries.parse_query(params)
        with store.session() as s:
            pg = queries.flag_page(s, viewer, query, after=after, limit=limit)
        base = query.as_params()
        next_url = "/flags?" + urlencode({**base, "after": pg.next_cursor, "limit": limit}) \
            if pg.next_cursor else None
        qs = urlencode(base)
        return page(request, "flags.html", viewer=viewer, rows=pg.rows, query=query,
                    next_url=next_url, qs=qs, limit=limit, first=after is None)

    @app.post("/flags/bulk")
    async def bulk(request: Request) -> Response:
        viewer = viewer_for(request)
        form = await checked_form(request)
        if not viewer.can_review:
            raise NotFoundError("no such page")
        ids = _int_list(form.getlist("ids"))
        action = str(form.get("action", ""))
        reason = str(form.get("reason", ""))

        def run() -> review.ReviewOutcome:
            with store.session() as s:
                return review.review(s, viewer, ids, action, reason)

        out = await run_in_threadpool(run)
        back = _safe_next(str(form.get("back", "/flags")))
        return page(request, "bulk_done.html", viewer=viewer, outcome=out, action=action,
                    back=back)

    @app.get("/flags/{flag_id:int}")
    def flag_page_view(request: Request, flag_id: int) -> Response:
        viewer = viewer_for(request)
        return _render_flag(request, viewer, flag_id, reveal_reason=None)

    def _render_flag(
        request: Request, viewer: Viewer, flag_id: int, *, reveal_reason: str | None,
        status: int = 200, message: str | None = None,
    ) -> Response:
        with store.session() as s:
            flag = queries.get_flag(s, viewer, flag_id)
            if reveal_reason is not None:
                review.reveal(s, viewer, flag_id, reveal_reason)
            else:
                record(s, viewer.username, "flag.view", "flag", flag.id, {"role": viewer.role})
            detail = flag_detail(s, flag)
        revealed = reveal_reason is not None or (
            viewer.role == "employee" and viewer.person_id == detail.flag.person_id
        )
        return page(request, "flag.html", status, viewer=viewer, d=detail, revealed=revealed,
                    message=message)

    @app.post("/flags/{flag_id:int}/review")
    async def review_one(request: Request, flag_id: int) -> Response:
        viewer = viewer_for(request)
        form = await checked_form(request)
        if not viewer.can_review:
            raise NotFoundError("no such page")
        action = str(form.get("action", ""))
        reason = str(form.get("reason", ""))

        def run() -> review.ReviewOutcome:
            with store.session() as s:
                queries.get_flag(s, viewer, flag_id)  # 404 before any other message
                return review.review(s, viewer, [flag_id], action, reason)

        out = await run_in_threadpool(run)
        if out.skipped:
            raise InputError(out.skipped[flag_id])
        return RedirectResponse(f"/flags/{flag_id}", status_code=303)

    @app.post("/flags/{flag_id:int}/reveal")
    async def reveal(request: Request, flag_id: int) -> Response:
        viewer = viewer_for(request)
        form = await checked_form(request)
        reason = str(form.get("reason", ""))
        return await run_in_threadpool(
            lambda: _render_flag(request, viewer, flag_id, reveal_reason=reason)
        )

    @app.post("/flags/{flag_id:int}/reveal-secret")
    async def reveal_secret(request: Request, flag_id: int) -> Response:
        viewer = viewer_for(request)
        form = await checked_form(request)
        reason = str(form.get("reason", ""))

        def run() -> Response:
            with store.session() as s:
                shown = review.reveal_secret(s, viewer, flag_id, reason, keeping)
                detail = flag_detail(s, queries.get_flag(s, viewer, flag_id))
            return page(request, "flag.html", viewer=viewer, d=detail, revealed=False,
                        secrets=shown, message=None)

        return await run_in_threadpool(run)

    @app.post("/flags/{flag_id:int}/hold")
    async def hold(request: Request, flag_id: int) -> Response:
        viewer = viewer_for(request)
        form = await checked_form(request)
        on = str(form.get("hold", "")) == "1"
        reason = str(form.get("reason", ""))

        def run() -> None:
            with store.session() as s:
                review.set_legal_hold(s, viewer, flag_id, on, reason)

        await run_in_threadpool(run)
        return RedirectResponse(f"/flags/{flag_id}", status_code=303)

    # -- exports ---------------------------------------------------------------------------

    @app.get("/export/flags.{fmt}")
    def export(request: Request, fmt: str) -> Response:
        viewer = viewer_for(request)
        if fmt not in ("csv", "json"):
            raise NotFoundError("no such export")
        if not viewer.can_export:
            raise NotFoundError("no such export")
        query = queries.parse_query(dict(request.query_params))
        filters = query.as_params()
        filtered(viewer, query)  # a query that cannot be built fails here, as a page
        with store.session() as s:
            started = record(s, viewer.username, "flags.export", None, None,
                             {"format": fmt, "filters": filters, "role": viewer.role})
            head = ChainHead(int(started.id), started.at, started.hash or "")
        rows = exports.Counted(_stream_flags(store, viewer, query))
        if fmt == "csv":
            body = exports.stream_csv(rows, head, author_label, filters)
            media = "text/csv; charset=utf-8"
        else:
            body = exports.stream_json(rows, head, author_label, filters)
            media = "application/json"
        headers = {
            "Content-Disposition": f'attachment; filename="socialguide-flags.{fmt}"',
            "X-Socialguide-Chain-Head": head.as_text(),
        }
        audited = exports.audited(body, rows, partial(_export_outcome, store, viewer.username,
                                                      head.id, fmt))
        return StreamingResponse(audited, media_type=media, headers=headers)

    # -- reports ---------------------------------------------------------------------------

    def _report(request: Request, viewer: Viewer) -> Any:
        if not viewer.sees_everything:
            raise NotFoundError("no such page")
        since_raw = request.query_params.get("since", "90d")
        for key in request.query_params:
            if key != "since":
                raise BadQuery(key, "unknown parameter")
        if len(since_raw) > 20:
            raise BadQuery("since", "expected e.g. 90d, 12w or 2026-01-31")
        since = parse_since(since_raw)
        with store.session() as s:
            rep = build_report(s, settings, since)
            head = latest_head(s)
        return since_raw, rep, head

    @app.get("/reports")
    def reports(request: Request) -> Response:
        viewer = viewer_for(request)
        since_raw, rep, head = _report(request, viewer)
        cats = rep.categories
        weekly_chart = charts.stacked_bars(rep.weekly, cats, title="Flags per category per week")
        nudge_chart = charts.stacked_bars(
            {w: {"sent": n} for w, n in rep.nudges_weekly.items()}, ["sent"],
            title="Nudges sent per week")
        precision = [(r.source, r.precision) for r in rep.rules if r.precision is not None]
        precision_chart = charts.hbars([(s, p) for s, p in precision if p is not None][:15])
        return page(request, "reports.html", viewer=viewer, rep=rep, since=since_raw,
                    weekly_chart=weekly_chart, nudge_chart=nudge_chart,
                    precision_chart=precision_chart, head=head)

    @app.get("/reports/report.csv")
    def reports_csv(request: Request) -> Response:
        viewer = viewer_for(request)
        _since_raw, rep, head = _report(request, viewer)
        with store.session() as s:
            record(s, viewer.username, "report.export", None, None, {"format": "csv"})
        return Response(
            report_csv(rep), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="socialguide-report.csv"',
                     "X-Socialguide-Chain-Head": head.as_text() if head else "empty"},
        )

    check_page.install(app, settings, store, page, viewer_for)  # /check and /api/v1
    return app


def _stream_flags(store: Store, viewer: Viewer, query: FlagQuery) -> Iterator[Any]:
    # Its own session, open for as long as the response streams.
    with store.session() as s:
        yield from queries.iter_flags(s, viewer, query)


def _export_outcome(store: Store, actor: str, export_id: int, fmt: str,
                    outcome: exports.Outcome) -> None:
    """Audit how an export ended: complete, or failed after so many rows (and why)."""
    action = "flags.export_complete" if outcome.complete else "flags.export_failed"
    details: dict[str, Any] = {"export": export_id, "format": fmt, "rows": outcome.rows}
    if outcome.error:
        details["error"] = outcome.error
    try:
        with store.session() as s:
            record(s, actor, action, None, None, details)
    except Exception as exc:  # the export's own outcome must not hide the original failure
        log.error("could not audit the end of export %s: %s", export_id, type(exc).__name__)
    if not outcome.complete:
        log.error("export %s failed after %s rows: %s", export_id, outcome.rows, outcome.error)


def _pseudonym(person_id: int | None, *, key: bytes) -> str:
    return pseudonym(person_id, key)


def _safe_next(value: str) -> str:
    """Only local paths: an open redirect would make the sign-in page a phishing aid."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/flags"
    return value


def _int_list(values: list[Any]) -> list[int]:
    out = []
    for v in values:
        n = queries.parse_id(v) if isinstance(v, str) else None
        if n is None:
            raise InputError(f"flag ids must be whole numbers from 1 to {queries.MAX_ID}")
        out.append(n)
    return out


def _safe_url(value: str | None) -> str | None:
    """A post's link only if it is plain http(s): javascript:, data: and the rest stay text."""
    if value and _HTTP_URL.match(value):
        return value
    return None
