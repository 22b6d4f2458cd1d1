"""``/healthz`` for load balancers and process monitors: no session, no store."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

router = APIRouter()


@router.get("/healthz")
def healthz() -> Response:
    """Answer while the process serves requests; it checks nothing else on purpose."""
    return PlainTextResponse("ok")
