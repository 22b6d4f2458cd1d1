"""The dashboard's *Check a draft* page, and the one call that wires draft checks into the app.

Any signed-in user may check a draft (employees first of all); nothing about it is stored, so
the page writes no audit entry and logs no text. The form carries the session's CSRF token
like every other form on the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.config import Settings
from monitor.guidance.draft_check import (
    PRIVACY_NOTE,
    CheckAnswer,
    CheckFailed,
    DraftChecker,
    DraftError,
    checker_for,
)
from monitor.masking import mask_spans
from monitor.store import Store
from monitor.web.check_api import PREFIX, create_check_api
from monitor.web.security import checked_form
from monitor.web.views import segments

PLATFORMS = ("", "bluesky", "mastodon", "x", "reddit", "linkedin", "rss")
# A form field may be a little over the draft limit; the checker then names the limit.
FORM_SLACK = 1024


def install(app: FastAPI, settings: Settings, store: Store,
            page: Callable[..., HTMLResponse], viewer_for: Callable[[Request], Any],
            checker: DraftChecker | None = None) -> DraftChecker:
    """Mount ``/api/v1`` and add ``/check`` to the dashboard; returns the shared checker."""
    checker = checker or checker_for(settings)
    app.state.draft_checker = checker
    app.mount(PREFIX, create_check_api(settings, store, checker))
    app.include_router(page_router(settings, store, checker, page, viewer_for))
    return checker


def highlighted(text: str, answer: CheckAnswer) -> list[tuple[str, bool]]:
    """The draft with every finding's spans marked, credentials masked (same length)."""
    findings = [a.finding for a in answer.advice]
    secrets = [(int(a), int(b)) for f in findings if f.category == "credentials"
               for a, b in f.spans]
    spans = [[int(a), int(b)] for f in findings for a, b in f.spans]
    return segments(mask_spans(text, secrets), spans)


def page_router(settings: Settings, store: Store, checker: DraftChecker,
                page: Callable[..., HTMLResponse],
                viewer_for: Callable[[Request], Any]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def render(request: Request, viewer: Any, status: int = 200, **ctx: Any) -> HTMLResponse:
        for key, default in (("draft", ""), ("platform", ""), ("answer", None),
                             ("error", None), ("marked", [])):
            ctx.setdefault(key, default)
        return page(request, "check.html", status, viewer=viewer, platforms=PLATFORMS,
                    max_chars=checker.max_chars, privacy=PRIVACY_NOTE, **ctx)

    @router.get("/check")
    def check_form(request: Request) -> Response:
        return render(request, viewer_for(request))

    @router.post("/check")
    async def check_draft(request: Request) -> Response:
        viewer = viewer_for(request)
        declared = request.headers.get("content-length", "")
        # Refuse a huge form before parsing it (URL-encoding takes up to 9 bytes a character).
        if declared.isascii() and declared.isdigit() and int(declared) > checker.max_chars * 9 + 8 * FORM_SLACK:
            return render(request, viewer, 400, error=f"The draft is too long; the limit is "
                          f"{checker.max_chars:,} characters.")
        form = await checked_form(request)
        text = form.get("text")
        draft = text if isinstance(text, str) else ""
        # Browsers send CRLF line ends from a textarea; the author typed LF.
        draft = draft.replace("\r\n", "\n")
        platform = str(form.get("platform") or "")
        if platform not in PLATFORMS:
            platform = ""
        if len(draft) > checker.max_chars + FORM_SLACK:
            return render(request, viewer, 400, error=f"The draft is {len(draft):,} "
                          f"characters long; the limit is {checker.max_chars:,}.")
        try:
            answer = await run_in_threadpool(checker.check, draft, platform or None,
                                             store=store)
        except DraftError as exc:
            return render(request, viewer, 400, error=_sentence(str(exc)), draft=draft,
                          platform=platform)
        except CheckFailed as exc:
            return render(request, viewer, 500, error=_sentence(str(exc)), draft=draft,
                          platform=platform)
        return render(request, viewer, answer=answer, draft=draft, platform=platform,
                      marked=highlighted(draft, answer))

    return router


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
