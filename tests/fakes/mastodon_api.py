"""A fake Mastodon instance: account lookup and public statuses with ``Link`` paging."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.platform_base import Answer, FakePlatform


class FakeMastodon(FakePlatform):
    """``/api/v1/accounts/lookup`` and ``/api/v1/accounts/:id/statuses`` (HTML content)."""

    name = "mastodon"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.ids: dict[str, str] = {}
        self.bios: dict[str, str] = {}  # handle -> note (HTML, as Mastodon serves it)

    def add_account(self, handle: str) -> None:
        super().add_account(handle)
        self.ids.setdefault(handle.lower(), str(100 + len(self.ids)))

    def add_post(self, handle: str, text: str, post_id: str | None = None,
                 kind: str = "t3") -> Any:
        self.add_account(handle)
        # Mastodon ids are snowflakes: numeric strings that grow with time.
        return super().add_post(handle, text, post_id or str(110000000000 + int(self.next_id())),
                                kind)

    def _handle_of_id(self, uid: str) -> str | None:
        for h, i in self.ids.items():
            if i == uid:
                return h
        return None

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        if path == "/api/v1/accounts/lookup":
            return query.get("acct", "").split("@")[0].lower() or None
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[3] and parts[4] == "statuses":
            return self._handle_of_id(parts[3])
        return None

    def rate_limit_headers(self) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(minutes=5)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": "Too many requests" if status == 429 else "Service unavailable"}

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        if path == "/api/v1/accounts/lookup":
            name = query.get("acct", "").split("@")[0].lower()
            if name not in self.ids:
                return Answer(404, {"error": "Record not found"})
            return Answer(200, self._account(name))
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[:3] == ["api", "v1", "accounts"] and parts[4] == "statuses":
            handle = self._handle_of_id(parts[3])
            if handle is None:
                return Answer(404, {"error": "Record not found"})
            tl = self.posts[handle]
            if "max_id" in query:
                tl = [p for p in tl if int(p.id) < int(query["max_id"])]
            if "since_id" in query:
                tl = [p for p in tl if int(p.id) > int(query["since_id"])]
            limit = min(40, int(query.get("limit", "20")))
            page = tl[:limit]
            extra: dict[str, str] = {}
            if len(tl) > limit:
                q = {k: v for k, v in query.items() if k not in ("max_id", "since_id")}
                q["max_id"] = page[-1].id
                extra["Link"] = f'<{self.base_url}{path}?{urlencode(q)}>; rel="next"'
            return Answer(200, [self._status(handle, p) for p in page], extra)
        return Answer(404, {"error": "Record not found"})

    def _account(self, name: str) -> dict[str, Any]:
        return {"id": self.ids[name], "username": name, "acct": name, "display_name": name,
                "locked": False, "bot": False, "created_at": "2024-01-01T00:00:00.000Z",
                "note": self.bios.get(name, ""), "url": f"{self.base_url}/@{name}", "avatar": "", "header": "",
                "followers_count": 0, "following_count": 0, "statuses_count": 0,
                "emojis": [], "fields": []}

    def _status(self, handle: str, p: Any) -> dict[str, Any]:
        def iso(d: datetime | None) -> str | None:
            return d.strftime("%Y-%m-%dT%H:%M:%S.000Z") if d else None

        content = "".join(f"<p>{html.escape(line)}</p>" for line in p.text.split("\n\n"))
        return {"id": p.id, "created_at": iso(p.created_at), "edited_at": iso(p.edited_at),
                "in_reply_to_id": None, "in_reply_to_account_id": None, "sensitive": False,
                "spoiler_text": "", "visibility": "public", "language": "en",
                "uri": f"{self.base_url}/users/{handle}/statuses/{p.id}",
                "url": f"{self.base_url}/@{handle}/{p.id}", "replies_count": 0,
                "reblogs_count": 0, "favourites_count": 0, "content": content,
                "reblog": None, "account": self._account(handle), "media_attachments": [],
                "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}
