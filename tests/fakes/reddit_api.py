"""A fake Reddit OAuth API: the app-only token and a user's overview listing."""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes.platform_base import Answer, FakePlatform

CLIENT_ID = "fake-reddit-client"
CLIENT_SECRET = "fake-reddit-secret-abcdef"


class FakeReddit(FakePlatform):
    """``POST /api/v1/access_token`` and ``GET /user/:name/overview`` (newest first)."""

    name = "reddit"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.tokens_issued = 0
        self.bios: dict[str, str] = {}  # user -> profile description

    def delete_post(self, handle: str, post_id: str) -> None:
        """Reddit keeps a deleted item in listings, with ``[deleted]`` as author and text."""
        p = self.find(handle, post_id)
        p.deleted = True

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "user":
            return parts[1].lower()
        return None

    def rate_limit_headers(self) -> dict[str, str]:
        return {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100",
                "x-ratelimit-reset": "42", "retry-after": "42"}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"message": "Too Many Requests" if status == 429 else "Server Error",
                "error": status}

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        rl = {"x-ratelimit-remaining": "99", "x-ratelimit-used": "1",
              "x-ratelimit-reset": "60"}
        if path == "/api/v1/access_token" and method == "POST":
            want = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if headers.get("authorization") != f"Basic {want}":
                return Answer(401, {"message": "Unauthorized", "error": 401})
            self.tokens_issued += 1
            return Answer(200, {"access_token": "fake-reddit-access", "token_type": "bearer",
                                "expires_in": 86400, "scope": "*"})
        if headers.get("authorization") != "bearer fake-reddit-access":
            return Answer(401, {"message": "Unauthorized", "error": 401})
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "user" and parts[2] == "about":
            if self.timeline(parts[1]) is None:
                return Answer(404, {"message": "Not Found", "error": 404}, rl)
            name = parts[1].lower()
            return Answer(200, {"kind": "t2", "data": {
                "name": parts[1], "id": "u" + name, "created_utc": 1700000000.0,
                "subreddit": {"display_name": f"u_{parts[1]}", "title": "",
                              "public_description": self.bios.get(name, ""),
                              "subreddit_type": "user"}}}, rl)
        if len(parts) == 3 and parts[0] == "user" and parts[2] == "overview":
            tl = self.timeline(parts[1])
            if tl is None:
                return Answer(404, {"message": "Not Found", "error": 404}, rl)
            limit = int(query.get("limit", "25"))
            children = [self._child(parts[1], p) for p in tl[:limit]]
            return Answer(200, {"kind": "Listing", "data": {
                "after": None, "before": None, "dist": len(children), "modhash": None,
                "geo_filter": "", "children": children}}, rl)
        return Answer(404, {"message": "Not Found", "error": 404}, rl)

    def _child(self, user: str, p: Any) -> dict[str, Any]:
        created = p.created_at.timestamp()
        edited: float | bool = p.edited_at.timestamp() if p.edited_at else False
        author = "[deleted]" if p.deleted else user
        if p.kind == "t1":
            data = {"id": p.id, "name": f"t1_{p.id}", "body": "[deleted]" if p.deleted else p.text,
                    "author": author, "created_utc": created, "edited": edited,
                    "link_id": "t3_zzz", "parent_id": "t3_zzz", "subreddit": "test",
                    "permalink": f"/r/test/comments/zzz/x/{p.id}/", "score": 1}
            return {"kind": "t1", "data": data}
        title, _, selftext = p.text.partition("\n\n")
        data = {"id": p.id, "name": f"t3_{p.id}", "title": title,
                "selftext": "[deleted]" if p.deleted else selftext, "author": author,
                "created_utc": created, "edited": edited, "subreddit": "test",
                "permalink": f"/r/test/comments/{p.id}/post/", "score": 1,
                "removed_by_category": "deleted" if p.deleted else None, "is_self": True,
                "url": f"https://www.reddit.com/r/test/comments/{p.id}/post/"}
        return {"kind": "t3", "data": data}
