"""The dashboard's routers, one per subject; ``create_app`` includes them in :data:`ROUTERS`."""

from __future__ import annotations

from fastapi import APIRouter

from monitor.web.routes import exports, flags, health, reports, review, signin

# No two routers share a path, so their order never decides which route answers.
ROUTERS: tuple[APIRouter, ...] = (
    health.router, signin.router, flags.router, review.router, exports.router, reports.router,
)

__all__ = ["ROUTERS"]
