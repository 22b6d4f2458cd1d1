"""A fake Bluesky AppView: ``app.bsky.feed.getAuthorFeed`` with cursors, as atproto calls it."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.platform_base import Answer, FakePlatform

FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
PROFILE = "/xrpc/app.bsky.actor.getProfile"


class FakeBluesky(FakePlatform):
    """Public author feeds, newest first; deleted posts simply disappear (as on Bluesky)."""

    name = "bluesky"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.bios: dict[str, str] = {}  # handle -> profile description

    def did(self, handle: str) -> str:
        return "did:plc:" + handle.lower().replace(".", "")[:24]

    def uri(self, handle: str, post_id: str) -> str:
        return f"at://{self.did(handle)}/app.bsky.feed.post/{post_id}"

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        return query.get("actor", "").lower() or None

    def rate_limit_headers(self) -> dict[str, str]:
        return {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                "ratelimit-reset": str(int(time.time()) + 300),
                "ratelimit-policy": "3000;w=300"}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": "RateLimitExceeded" if status == 429 else "InternalServerError",
                "message": f"HTTP {status}"}

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        if path == PROFILE:
            return self._profile(query.get("actor", ""))
        if path != FEED:
            return Answer(404, {"error": "MethodNotImplemented", "message": "no such method"})
        actor = query.get("actor", "")
        tl = self.timeline(actor)
        if tl is None:
            return Answer(400, {"error": "InvalidRequest", "message": "Profile not found"})
        limit = int(query.get("limit", "50"))
        start = int(query.get("cursor") or 0)
        page = tl[start : start + limit]
        out: dict[str, Any] = {"feed": [{"post": self._view(actor, p)} for p in page]}
        if start + limit < len(tl):
            out["cursor"] = str(start + limit)
        return Answer(200, out)

    def _profile(self, actor: str) -> Answer:
        if self.timeline(actor) is None:
            return Answer(400, {"error": "InvalidRequest", "message": "Profile not found"})
        return Answer(200, {"did": self.did(actor), "handle": actor.lower(),
                            "displayName": actor, "description": self.bios.get(actor.lower(), ""),
                            "followersCount": 0, "followsCount": 0, "postsCount": 0,
                            "labels": []})

    def _view(self, handle: str, p: Any) -> dict[str, Any]:
        when = p.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "uri": self.uri(handle, p.id),
            "cid": "bafyrei" + p.id.rjust(20, "a"),
            "author": {"did": self.did(handle), "handle": handle.lower(),
                       "displayName": handle, "labels": []},
            "record": {"$type": "app.bsky.feed.post", "text": p.text, "createdAt": when,
                       "langs": ["en"]},
            "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
            "indexedAt": when, "labels": [],
        }
