"""The flag log and one flag: paging through what a viewer may see, and revealing an author.

Opening a flag is audited as a view; revealing who wrote it, or a masked credential, needs a
reason and is audited as that instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.compliance import queries, review
from monitor.compliance.users import Viewer
from monitor.store import Session, audit, web_sessions
from monitor.store.audit import record
from monitor.store.flag_log import count_matching, filter_choices
from monitor.web.deps import Context, SignedIn, WebContext
from monitor.web.security import checked_form
from monitor.web.views import flag_detail

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> Response:
    """The dashboard opens on the flag log."""
    return RedirectResponse("/flags", status_code=303)


@router.get("/flags")
def flag_log(request: Request, web: Context, viewer: SignedIn) -> Response:
    """One page of the flags the viewer may see, filtered and keyset-paged."""
    params = dict(request.query_params)
    after = params.pop("after", None)
    limit = queries.parse_limit(params.pop("limit", None))
    query = queries.parse_query(params)
    with web.store.session() as s:
        pg = queries.flag_page(s, viewer, query, after=after, limit=limit)
        # Counting walks every matching flag: the first page says it, deeper pages keep the
        # keyset promise (page 10,000 costs what page 1 does) and do not count again.
        matching = count_matching(s, viewer, query) if after is None else None
        choices = filter_choices(s, viewer)
    base = query.as_params()
    next_url = "/flags?" + urlencode({**base, "after": pg.next_cursor, "limit": limit}) \
        if pg.next_cursor else None
    qs = urlencode(base)
    return web.page(request, "flags.html", viewer=viewer, rows=pg.rows, query=query,
                    next_url=next_url, qs=qs, limit=limit, first=after is None,
                    matching=matching, choices=choices)


@router.get("/flags/{flag_id:int}")
def flag_view(request: Request, web: Context, viewer: SignedIn, flag_id: int) -> Response:
    """One flag with its post, findings, nudges and history; the view is audited."""
    return _render_flag(web, request, viewer, flag_id, reveal_reason=None)


def _render_flag(
    web: WebContext, request: Request, viewer: Viewer, flag_id: int, *,
    reveal_reason: str | None, status: int = 200, message: str | None = None,
) -> Response:
    """The flag page, audited as a view or (with a reason) as revealing the author."""
    with web.store.session() as s:
        flag = queries.get_flag(s, viewer, flag_id)
        if reveal_reason is not None:
            review.reveal(s, viewer, flag_id, reveal_reason)
        else:
            record(s, viewer.username, "flag.view", "flag", flag.id, {"role": viewer.role})
        detail = flag_detail(s, flag, with_shadow=viewer.sees_everything)
        revealed = reveal_reason is not None or (
            viewer.role == "employee" and viewer.person_id == detail.flag.person_id
        ) or _revealed_this_session(s, request, viewer, flag.id)
    return web.page(request, "flag.html", status, viewer=viewer, d=detail, revealed=revealed,
                    message=message)


def _revealed_this_session(s: Session, request: Request, viewer: Viewer, flag_id: int) -> bool:
    """A reveal lasts for this reviewer, this flag and this sign-in: it was audited once, when
    it was asked for; coming back to the flag page later shows the name without a new entry."""
    if viewer.role not in ("compliance", "manager"):
        return False
    since = web_sessions.started_at(s, request.session.get("sid"))
    return since is not None and audit.recorded_since(
        s, viewer.username, "flag.reveal", "flag", flag_id, since)


@router.post("/flags/{flag_id:int}/reveal")
async def reveal(request: Request, web: Context, viewer: SignedIn, flag_id: int) -> Response:
    """Show who wrote a flagged post, for a reason that goes into the audit log."""
    form = await checked_form(request)
    reason = str(form.get("reason", ""))
    return await run_in_threadpool(
        lambda: _render_flag(web, request, viewer, flag_id, reveal_reason=reason)
    )


@router.post("/flags/{flag_id:int}/reveal-secret")
async def reveal_secret(request: Request, web: Context, viewer: SignedIn,
                        flag_id: int) -> Response:
    """Show a kept credential in clear, for a reason that goes into the audit log."""
    form = await checked_form(request)
    reason = str(form.get("reason", ""))

    def run() -> Response:
        with web.store.session() as s:
            shown = review.reveal_secret(s, viewer, flag_id, reason, web.keeping)
            detail = flag_detail(s, queries.get_flag(s, viewer, flag_id),
                                 with_shadow=viewer.sees_everything)
        return web.page(request, "flag.html", viewer=viewer, d=detail, revealed=False,
                        secrets=shown, message=None)

    return await run_in_threadpool(run)
