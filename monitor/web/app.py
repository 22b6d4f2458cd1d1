"""``create_app``: builds the shared context, adds middleware, includes the routers.

The routes themselves live in :mod:`monitor.web.routes` (one module per subject; the draft
check, which also mounts its API, in :mod:`monitor.web.routes.check`); what they share is
:class:`monitor.web.deps.WebContext`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from monitor.compliance import queries, review
from monitor.compliance.queries import BadQuery
from monitor.config import Settings
from monitor.domain import CATEGORIES, SEVERITY_ORDER
from monitor.errors import InputError, NotFoundError
from monitor.guidance.draft_check import DraftChecker
from monitor.masking import SecretKeeping
from monitor.store import Store
from monitor.web.deps import (
    HERE,
    SignInRequired,
    WebContext,
    author_label,
    safe_url,
    viewer_if_signed_in,
)
from monitor.web.oidc import OidcClient
from monitor.web.routes import ROUTERS, check
from monitor.web.security import CSRF_FIELD, CsrfError, SecurityHeaders, pseudonym_key, session_key

log = logging.getLogger(__name__)
SESSION_COOKIE = "sg_session"


def create_app(settings: Settings, store: Store, checker: DraftChecker | None = None) -> FastAPI:
    """Build the dashboard for one store and config; ``checker`` replaces the draft checker
    built from the config (a test gives one whose pipeline fails)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web = _context(settings, store)
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(settings.web),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web.session_hours * 3600),
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )
    # A plain ASGI middleware: one built on BaseHTTPMiddleware would end a stream that broke
    # off as if it were complete (see exports.audited).
    app.add_middleware(SecurityHeaders)
    _error_pages(app, web)
    for router in ROUTERS:
        app.include_router(router)
    check.install(app, web, checker)  # /check and /api/v1
    return app


def _context(settings: Settings, store: Store) -> WebContext:
    """The shared state every route reads, with the templates' globals set once."""
    label = author_label(pseudonym_key(settings.web))
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(
        pseudonym=label, categories=CATEGORIES, severities=SEVERITY_ORDER,
        statuses=queries.STATUSES, actions=review.ACTIONS, csrf_field=CSRF_FIELD,
        safe_url=safe_url,
    )
    return WebContext(
        settings=settings,
        store=store,
        templates=templates,
        sso=OidcClient(settings.web) if settings.web.oidc_issuer.strip() else None,
        keeping=SecretKeeping.from_settings(settings),
        author_label=label,
        lifetime=timedelta(hours=settings.web.session_hours),
    )


def _error_pages(app: FastAPI, web: WebContext) -> None:
    """Clear messages, never a stack trace.

    The handlers hold the context themselves: an error raised inside the mounted API reaches
    them with that sub-application as ``request.app``.
    """

    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, _exc: SignInRequired) -> Response:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": nxt}), status_code=303)

    @app.exception_handler(BadQuery)
    @app.exception_handler(InputError)
    async def _bad(request: Request, exc: Exception) -> Response:
        return web.page(request, "error.html", 400, title="Bad request", message=str(exc),
                        viewer=viewer_if_signed_in(request, web))

    @app.exception_handler(NotFoundError)
    async def _nf(request: Request, _exc: Exception) -> Response:
        return web.page(request, "error.html", 404, title="Not found",
                        message="There is nothing here, or you may not see it.",
                        viewer=viewer_if_signed_in(request, web))

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, _exc: Exception) -> Response:
        return web.page(request, "error.html", 403, title="Form expired",
                        message="The form was missing its security token. Reload and try again.",
                        viewer=viewer_if_signed_in(request, web))

    @app.exception_handler(404)
    async def _404(request: Request, _exc: Exception) -> Response:
        return web.page(request, "error.html", 404, title="Not found",
                        message="There is nothing here, or you may not see it.",
                        viewer=viewer_if_signed_in(request, web))

    @app.exception_handler(405)
    async def _405(request: Request, _exc: Exception) -> Response:
        return PlainTextResponse("method not allowed", status_code=405)

    @app.exception_handler(Exception)
    async def _500(request: Request, exc: Exception) -> Response:
        log.error("dashboard error on %s: %s", request.url.path, type(exc).__name__,
                  exc_info=exc)
        return web.page(request, "error.html", 500, title="Something went wrong",
                        message="The error was logged.", viewer=viewer_if_signed_in(request, web))
