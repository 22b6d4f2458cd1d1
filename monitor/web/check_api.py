"""``POST /api/v1/check`` for publishing tools, with its OpenAPI schema at /api/v1/openapi.json.

A sub-application mounted on the dashboard: its errors are JSON, never the dashboard's HTML
pages, and its own exception handler logs a request id and an error type - never a body,
which is a draft someone has not posted.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from monitor.config import Settings
from monitor.guidance.draft_check import (
    CheckFailed,
    DraftChecker,
    DraftError,
    new_request_id,
)
from monitor.store import Store
from monitor.store.api_tokens import live_token
from monitor.web.rate_limit import RateLimiter

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
FIELDS = ("text", "platform")
_PLATFORM = re.compile(r"[a-z0-9_.\-]{1,32}")


# -- the schema (documentation and response shapes) ---------------------------------------


class CheckRequest(BaseModel):
    """A draft to check."""

    text: str = Field(description="The draft, as the author would post it (UTF-8; at most the "
                      "configured [check] max_chars characters, 40,000 by default).")
    platform: str | None = Field(default=None, description="Where it will be posted: bluesky, "
                                 "mastodon, x, reddit, rss, linkedin, … (lower case).")


class SuggestionOut(BaseModel):
    title: str = Field(description="What to change, e.g. 'Take the key out'.")
    text: str = Field(description="The passage as it would read with the change.")


class FindingOut(BaseModel):
    """A finding as ``socialguide scan`` writes it, plus what to show the author."""

    category: str
    source: str = Field(description="rule:<rule id> or model:<model name>")
    severity: str
    score: float
    spans: list[list[int]] = Field(description="[start, end) character offsets in the text")
    guidance: str
    label: str = Field(description="The category in plain words.")
    policy_section: str | None
    training_url: str
    excerpt: str = Field(description="The first span's text (a credential masked).")
    suggestion: SuggestionOut | None


class CheckResponse(BaseModel):
    flagged: bool
    findings: list[FindingOut]
    message: str = Field(description="One line for the author: what the check found.")
    policy_url: str
    request_id: str


class ErrorOut(BaseModel):
    error: str = Field(description="What is wrong, in words a person can act on.")
    request_id: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Empty, oversize, binary, non-UTF-8 or malformed "
          "body; the message names the problem."},
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked one."},
    429: {"model": ErrorOut, "description": "Over the token's rate limit; see Retry-After."},
    500: {"model": ErrorOut, "description": "The check failed; quote request_id to the "
          "operator (nothing about the draft is logged)."},
}


# -- the app -------------------------------------------------------------------------------


def _error(status: int, message: str, rid: str, headers: dict[str, str] | None = None
           ) -> JSONResponse:
    return JSONResponse({"error": message, "request_id": rid}, status_code=status,
                        headers={"X-Request-Id": rid, **(headers or {})})


def create_check_api(settings: Settings, store: Store, checker: DraftChecker) -> FastAPI:
    """The API app; mount it at :data:`PREFIX`."""
    api = FastAPI(
        title="socialguide draft check",
        version="1",
        description="Check a draft against the social media policy before it is posted. "
        "Nothing about the draft is stored: no text, no spans, no identity; only a count per "
        "category per week. Authenticate with `Authorization: Bearer <token>` (tokens come "
        "from `socialguide tokens add`).",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    bearer = HTTPBearer(auto_error=False, description="A token from `socialguide tokens add`.")
    limiter = RateLimiter(settings.check.rate_per_minute)
    # JSON may escape a character as \uXXXX\uXXXX (12 bytes): bound the body, then the text.
    max_body = settings.check.max_chars * 12 + 4096

    @api.exception_handler(404)
    async def _404(request: Request, _exc: Exception) -> Response:
        return _error(404, "no such endpoint (see /api/v1/openapi.json)", new_request_id())

    @api.exception_handler(405)
    async def _405(request: Request, _exc: Exception) -> Response:
        return _error(405, "method not allowed", new_request_id())

    @api.exception_handler(Exception)
    async def _500(request: Request, exc: Exception) -> Response:
        rid = new_request_id()
        log.error("check API error %s: %s", rid, type(exc).__name__)
        return _error(500, "internal error; quote the request id to your operator", rid)

    @api.post("/check", response_model=CheckResponse, responses=_ERRORS,
              summary="Check a draft before posting",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": CheckRequest.model_json_schema()}}}})
    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Response:
        rid = new_request_id()
        if credentials is None or credentials.scheme.lower() != "bearer":
            return _error(401, "missing token: send 'Authorization: Bearer <token>'", rid,
                          {"WWW-Authenticate": "Bearer"})

        def lookup() -> int | None:
            with store.session() as s:
                row = live_token(s, credentials.credentials)
                return row.id if row is not None else None

        token_id = await run_in_threadpool(lookup)
        if token_id is None:
            return _error(401, "the token is unknown or has been revoked", rid,
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        wait = limiter.acquire(token_id)
        if wait is not None:
            after = RateLimiter.retry_after(wait)
            return _error(429, f"rate limit of {settings.check.rate_per_minute} requests per "
                          f"minute reached; retry in {after} s", rid,
                          {"Retry-After": str(after)})
        try:
            text, platform = await _read_body(request, max_body)
        except DraftError as exc:
            return _error(400, str(exc), rid)
        try:
            answer = await run_in_threadpool(checker.check, text, platform, store=store,
                                             request_id=rid)
        except DraftError as exc:
            return _error(400, str(exc), rid)
        except CheckFailed as exc:
            return _error(500, str(exc), exc.request_id)
        return JSONResponse({**answer.to_json(), "request_id": rid},
                            headers={"X-Request-Id": rid})

    return api


async def _read_body(request: Request, max_body: int) -> tuple[str, str | None]:
    """The body's ``text`` and ``platform``, or a DraftError naming what is wrong."""
    ctype = request.headers.get("content-type", "")
    media, _, params = ctype.partition(";")
    if media.strip().lower() != "application/json":
        raise DraftError(f"send the draft as JSON with 'Content-Type: application/json' "
                         f"(got {media.strip()[:60] or 'no content type'!r})")
    charset = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_\-]+)", params)
    if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise DraftError(f"the body must be UTF-8, not {charset.group(1)[:30]}")
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_body:
        raise DraftError(f"the body is {int(declared):,} bytes; the limit is {max_body:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise DraftError(f"the body is over the limit of {max_body:,} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise DraftError("the body is empty: send {\"text\": \"<your draft>\"}")
    if b"\x00" in raw:
        raise DraftError("the body is binary (it contains NUL bytes); send JSON text")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DraftError(f"the body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                         f"offset {exc.start})") from None
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise DraftError(f"the body is not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    if not isinstance(data, dict):
        raise DraftError(f"the body must be a JSON object, not {_kind(data)}")
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        raise DraftError(f"unknown field {unknown[0][:40]!r} (expected: {', '.join(FIELDS)})")
    if "text" not in data:
        raise DraftError("missing required field 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise DraftError(f"field 'text' must be a string, not {_kind(text)}")
    platform = data.get("platform")
    if platform is not None:
        if not isinstance(platform, str):
            raise DraftError(f"field 'platform' must be a string, not {_kind(platform)}")
        if not _PLATFORM.fullmatch(platform.strip().lower()):
            raise DraftError("field 'platform' must be a short name such as 'bluesky' "
                             "(letters, digits, . _ -, at most 32)")
    return text, platform


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")
