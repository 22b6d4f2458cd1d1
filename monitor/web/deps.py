"""What every dashboard route shares: one typed context on ``app.state`` and the sign-in check.

Routers live in modules of their own, so they cannot close over ``create_app``'s locals; they
ask for :data:`Context` or :data:`SignedIn` instead, and FastAPI hands them what they need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from monitor.compliance import queries
from monitor.compliance.pseudonym import pseudonym
from monitor.compliance.users import Viewer, viewer_of
from monitor.config import Settings
from monitor.domain import utcnow
from monitor.errors import InputError, NotFoundError
from monitor.masking import SecretKeeping
from monitor.store import Store
from monitor.store import web_sessions as sessions
from monitor.store.schema import UserRow
from monitor.web.oidc import OidcClient
from monitor.web.security import csrf_token

HERE = Path(__file__).resolve().parent
# No whitespace or control characters anywhere: browsers drop them before reading a scheme.
_HTTP_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f-\x9f]{1,2040}$", re.IGNORECASE)


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in page."""


@dataclass(frozen=True, slots=True)
class WebContext:
    """The dashboard's shared state, built once by ``create_app`` and read by every route."""

    settings: Settings
    store: Store
    templates: Jinja2Templates
    sso: OidcClient | None  # None when single sign-on is not configured
    keeping: SecretKeeping
    author_label: Callable[[int | None], str]
    lifetime: timedelta  # how long a dashboard session lasts
    clock: Callable[[], datetime] = utcnow

    def page(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        """Render a template with the session's CSRF token, so every form can carry it."""
        ctx.setdefault("viewer", None)
        ctx["csrf"] = csrf_token(request)
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)


async def web_context(request: Request) -> WebContext:
    """The context ``create_app`` stored on the app: the one way routes reach shared state."""
    ctx: WebContext = request.app.state.web
    return ctx


Context = Annotated[WebContext, Depends(web_context)]


def signed_in(request: Request, web: Context) -> Viewer:
    """The viewer behind the session; a missing, expired or disabled one means sign in again."""
    sid = request.session.get("sid")
    with web.store.session() as s:
        uid = sessions.user_of(s, sid, web.lifetime)
        user = s.get(UserRow, uid) if uid is not None else None
        if user is None or user.disabled:
            request.session.clear()
            raise SignInRequired
        return viewer_of(user)


SignedIn = Annotated[Viewer, Depends(signed_in)]


def viewer_if_signed_in(request: Request, web: WebContext) -> Viewer | None:
    """The signed-in viewer, or None: an error page keeps the navigation of whoever sees it,
    and must never fail itself (a broken store gives a page without navigation)."""
    try:
        sid = request.session.get("sid")
        with web.store.session() as s:
            uid = sessions.user_of(s, sid, web.lifetime)
            user = s.get(UserRow, uid) if uid is not None else None
            return None if user is None or user.disabled else viewer_of(user)
    except Exception:  # noqa: BLE001 - the error page is already the answer to an error
        return None


# Role checks answer 404, as for a page that is not there: a viewer learns nothing about what
# exists. Review routes check their role in the handler instead, after the CSRF check, so a
# forged form is refused as such whoever sends it.


async def may_export(viewer: SignedIn) -> Viewer:
    """The signed-in viewer, if their role may export the flag log."""
    if not viewer.can_export:
        raise NotFoundError("no such export")
    return viewer


async def sees_everything(viewer: SignedIn) -> Viewer:
    """The signed-in viewer, if their role sees every flag (reports are organisation-wide)."""
    if not viewer.sees_everything:
        raise NotFoundError("no such page")
    return viewer


Exporter = Annotated[Viewer, Depends(may_export)]
SeesEverything = Annotated[Viewer, Depends(sees_everything)]


def author_label(key: bytes) -> Callable[[int | None], str]:
    """Pseudonyms under one key: pages and exports name authors the same way."""

    def label(person_id: int | None) -> str:
        return pseudonym(person_id, key)

    return label


def safe_next(value: str) -> str:
    """Only local paths: an open redirect would make the sign-in page a phishing aid."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/flags"
    return value


def int_list(values: list[Any]) -> list[int]:
    """Flag ids from a form, refused as a whole if one is not a valid id."""
    out = []
    for v in values:
        n = queries.parse_id(v) if isinstance(v, str) else None
        if n is None:
            raise InputError(f"flag ids must be whole numbers from 1 to {queries.MAX_ID}")
        out.append(n)
    return out


def safe_url(value: str | None) -> str | None:
    """A post's link only if it is plain http(s): javascript:, data: and the rest stay text."""
    if value and _HTTP_URL.match(value):
        return value
    return None
