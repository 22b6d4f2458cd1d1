"""The dashboard's *Check a draft* page, and the one call that wires draft checks into the app.

Any signed-in user may check a draft (employees first of all); nothing about it is stored, so
the page writes no audit entry and logs no text. The form carries the session's CSRF token
like every other form on the dashboard.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.compliance.users import Viewer
from monitor.guidance.draft_check import (
    PRIVACY_NOTE,
    CheckAnswer,
    CheckFailed,
    DraftChecker,
    DraftError,
    checker_for,
)
from monitor.masking import mask_spans
from monitor.web.check_api import PREFIX, create_check_api
from monitor.web.deps import Context, SignedIn, WebContext
from monitor.web.security import checked_form
from monitor.web.views import segments

PLATFORMS = ("", "bluesky", "mastodon", "x", "reddit", "linkedin", "rss")
# A form field may be a little over the draft limit; the checker then names the limit.
FORM_SLACK = 1024


def install(app: FastAPI, web: WebContext, checker: DraftChecker | None = None) -> DraftChecker:
    """Mount ``/api/v1`` and add ``/check`` to the dashboard; returns the shared checker."""
    checker = checker or checker_for(web.settings)
    app.state.draft_checker = checker
    app.mount(PREFIX, create_check_api(web.settings, web.store, checker))
    app.include_router(router)
    return checker


def highlighted(text: str, answer: CheckAnswer) -> list[tuple[str, bool]]:
    """The draft with every finding's spans marked, credentials masked (same length)."""
    findings = [a.finding for a in answer.advice]
    secrets = [(int(a), int(b)) for f in findings if f.category == "credentials"
               for a, b in f.spans]
    spans = [[int(a), int(b)] for f in findings for a, b in f.spans]
    return segments(mask_spans(text, secrets), spans)


async def draft_checker(request: Request) -> DraftChecker:
    """The checker :func:`install` built: the page and the API share one loaded model."""
    checker: DraftChecker = request.app.state.draft_checker
    return checker


Checker = Annotated[DraftChecker, Depends(draft_checker)]

router = APIRouter(include_in_schema=False)


def _render(web: WebContext, checker: DraftChecker, request: Request, viewer: Viewer,
            status: int = 200, **ctx: Any) -> HTMLResponse:
    for key, default in (("draft", ""), ("platform", ""), ("answer", None),
                         ("error", None), ("marked", [])):
        ctx.setdefault(key, default)
    return web.page(request, "check.html", status, viewer=viewer, platforms=PLATFORMS,
                    max_chars=checker.max_chars, privacy=PRIVACY_NOTE, **ctx)


@router.get("/check")
def check_form(request: Request, web: Context, viewer: SignedIn,
               checker: Checker) -> Response:
    """The empty draft form."""
    return _render(web, checker, request, viewer)


@router.post("/check")
async def check_draft(request: Request, web: Context, viewer: SignedIn,
                      checker: Checker) -> Response:
    """Check the posted draft and show it back with what was found marked."""
    declared = request.headers.get("content-length", "")
    # Refuse a huge form before parsing it (URL-encoding takes up to 9 bytes a character).
    if declared.isascii() and declared.isdigit() and int(declared) > checker.max_chars * 9 + 8 * FORM_SLACK:
        return _render(web, checker, request, viewer, 400, error=f"The draft is too long; "
                       f"the limit is {checker.max_chars:,} characters.")
    form = await checked_form(request)
    text = form.get("text")
    draft = text if isinstance(text, str) else ""
    # Browsers send CRLF line ends from a textarea; the author typed LF.
    draft = draft.replace("\r\n", "\n")
    platform = str(form.get("platform") or "")
    if platform not in PLATFORMS:
        platform = ""
    if len(draft) > checker.max_chars + FORM_SLACK:
        return _render(web, checker, request, viewer, 400, error=f"The draft is "
                       f"{len(draft):,} characters long; the limit is {checker.max_chars:,}.")
    try:
        answer = await run_in_threadpool(checker.check, draft, platform or None,
                                         store=web.store)
    except DraftError as exc:
        return _render(web, checker, request, viewer, 400, error=_sentence(str(exc)),
                       draft=draft, platform=platform)
    except CheckFailed as exc:
        return _render(web, checker, request, viewer, 500, error=_sentence(str(exc)),
                       draft=draft, platform=platform)
    return _render(web, checker, request, viewer, answer=answer, draft=draft,
                   platform=platform, marked=highlighted(draft, answer))


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
