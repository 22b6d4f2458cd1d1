"""Reviewing flags: one flag's review, a bulk review from the log, and legal holds.

Roles decide: a viewer who may not review gets the same 404 as for a page that is not there,
so the dashboard does not tell them what exists.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.compliance import queries, review
from monitor.errors import InputError, NotFoundError
from monitor.web.deps import Context, SignedIn, int_list, safe_next
from monitor.web.security import checked_form

router = APIRouter()


@router.post("/flags/bulk")
async def bulk(request: Request, web: Context, viewer: SignedIn) -> Response:
    """Apply one review action to the flags ticked on the log; says which were skipped."""
    form = await checked_form(request)
    if not viewer.can_review:
        raise NotFoundError("no such page")
    ids = int_list(form.getlist("ids"))
    action = str(form.get("action", ""))
    reason = str(form.get("reason", ""))

    def run() -> review.ReviewOutcome:
        with web.store.session() as s:
            return review.review(s, viewer, ids, action, reason)

    out = await run_in_threadpool(run)
    back = safe_next(str(form.get("back", "/flags")))
    return web.page(request, "bulk_done.html", viewer=viewer, outcome=out, action=action,
                    back=back)


@router.post("/flags/{flag_id:int}/review")
async def review_one(request: Request, web: Context, viewer: SignedIn,
                     flag_id: int) -> Response:
    """Review one flag; a refused action is a 400 naming why."""
    form = await checked_form(request)
    if not viewer.can_review:
        raise NotFoundError("no such page")
    action = str(form.get("action", ""))
    reason = str(form.get("reason", ""))

    def run() -> review.ReviewOutcome:
        with web.store.session() as s:
            queries.get_flag(s, viewer, flag_id)  # 404 before any other message
            return review.review(s, viewer, [flag_id], action, reason)

    out = await run_in_threadpool(run)
    if out.skipped:
        raise InputError(out.skipped[flag_id])
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)


@router.post("/flags/{flag_id:int}/findings/{finding_id:int}/verdict")
async def finding_verdict(request: Request, web: Context, viewer: SignedIn, flag_id: int,
                          finding_id: int) -> Response:
    """Confirm one finding or call it not a concern, without judging the flag's others."""
    form = await checked_form(request)
    if not viewer.can_review:
        raise NotFoundError("no such page")
    verdict = str(form.get("verdict", ""))
    reason = str(form.get("reason", ""))

    def run() -> None:
        with web.store.session() as s:
            review.finding_verdict(s, viewer, flag_id, finding_id, verdict, reason)

    await run_in_threadpool(run)
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)


@router.post("/flags/{flag_id:int}/hold")
async def hold(request: Request, web: Context, viewer: SignedIn, flag_id: int) -> Response:
    """Put a legal hold on a flag, or lift it, so retention keeps or may purge it."""
    form = await checked_form(request)
    on = str(form.get("hold", "")) == "1"
    reason = str(form.get("reason", ""))

    def run() -> None:
        with web.store.session() as s:
            review.set_legal_hold(s, viewer, flag_id, on, reason)

    await run_in_threadpool(run)
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)
