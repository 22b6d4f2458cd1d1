"""A fake X API v2 (the endpoints tweepy's Client calls to read a user's posts)."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.platform_base import Answer, FakePlatform, FakePost

TOKEN = "fake-x-bearer-token-123456"


class FakeX(FakePlatform):
    """``/2/users/by/username/:u`` and ``/2/users/:id/tweets`` with since_id and paging."""

    name = "x"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.user_ids: dict[str, str] = {}
        self.bios: dict[str, str] = {}  # handle -> description

    def add_account(self, handle: str) -> None:
        super().add_account(handle)
        self.user_ids.setdefault(handle.lower(), str(9000 + len(self.user_ids)))

    def add_post(self, handle: str, text: str, post_id: str | None = None,
                 kind: str = "t3") -> FakePost:
        self.add_account(handle)
        return super().add_post(handle, text, post_id, kind)

    def edit_post(self, handle: str, post_id: str, text: str) -> FakePost:
        """An X edit publishes a new id whose history starts with the original one."""
        old = self.find(handle, post_id)
        new = FakePost(id=self.next_id(), text=text, created_at=self.tick(),
                       history=old.history + [], kind=old.kind)
        new.history.append(new.id)
        with self._lock:
            tl = self.posts[handle.lower()]
            tl.remove(old)
            tl.insert(0, new)
        return new

    def _handle_of_id(self, uid: str) -> str | None:
        for h, i in self.user_ids.items():
            if i == uid:
                return h
        return None

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        parts = path.strip("/").split("/")
        if parts[:3] == ["2", "users", "by"] and len(parts) == 5:
            return parts[4].lower()
        if len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] == "tweets":
            return self._handle_of_id(parts[2])
        return None

    def rate_limit_headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + 900)}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"title": "Too Many Requests" if status == 429 else "Service Unavailable",
                "detail": f"HTTP {status}", "type": "about:blank", "status": status}

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return Answer(401, {"title": "Unauthorized", "type": "about:blank",
                                "status": 401, "detail": "Unauthorized"})
        parts = path.strip("/").split("/")
        if parts[:3] == ["2", "users", "by"] and len(parts) == 5:
            name = parts[4].lower()
            if name not in self.user_ids:
                return Answer(200, {"errors": [{
                    "value": parts[4], "detail": f"Could not find user with username: [{parts[4]}].",
                    "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                    "resource_id": parts[4],
                    "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
            user = {"id": self.user_ids[name], "name": name, "username": name}
            if "description" in query.get("user.fields", "").split(","):
                user["description"] = self.bios.get(name, "")
            return Answer(200, {"data": user})
        if len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] == "tweets":
            handle = self._handle_of_id(parts[2])
            if handle is None:
                return Answer(404, {"title": "Not Found"})
            return Answer(200, self._tweets(handle, query))
        return Answer(404, {"title": "Not Found"})

    def _tweets(self, handle: str, q: dict[str, str]) -> dict[str, Any]:
        n = int(q.get("max_results", "10"))
        assert 5 <= n <= 100, n
        tl = list(self.posts.get(handle, []))
        if "since_id" in q:
            tl = [p for p in tl if int(p.id) > int(q["since_id"])]
        start = int(q.get("pagination_token", "0") or 0)
        page = tl[start : start + n]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0].id
            meta["oldest_id"] = page[-1].id
        if start + n < len(tl):
            meta["next_token"] = str(start + n)
        out: dict[str, Any] = {"meta": meta}
        if page:
            out["data"] = [{"id": p.id, "text": p.text,
                            "created_at": p.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                            "edit_history_tweet_ids": p.history} for p in page]
        return out
