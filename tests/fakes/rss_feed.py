"""A fake blog host serving RSS 2.0 and Atom feeds with ETag / Last-Modified."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.fakes.platform_base import Answer, FakePlatform


class FakeFeeds(FakePlatform):
    """``/feeds/<name>.xml`` (RSS, guids without isPermaLink) and ``/feeds/<name>.atom``."""

    name = "rss"

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        if path.startswith("/feeds/"):
            return path.removeprefix("/feeds/").lower()
        return None

    def rate_limit_headers(self) -> dict[str, str]:
        return {"Retry-After": "120"}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": status}

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        name = self.account_of(path, query)
        tl = self.timeline(name) if name else None
        if tl is None or name is None:
            return Answer(404, b"no such feed", content_type="text/plain")
        doc = self._atom(name, tl) if name.endswith(".atom") else self._rss(name, tl)
        etag = '"' + hashlib.sha256(doc.encode()).hexdigest()[:16] + '"'
        modified = format_datetime(tl[0].created_at, usegmt=True) if tl else \
            "Sun, 01 Mar 2026 12:00:00 GMT"
        cache = {"ETag": etag, "Last-Modified": modified}
        if headers.get("if-none-match") == etag:
            return Answer(304, b"", cache)
        ctype = "application/atom+xml" if name.endswith(".atom") else "application/rss+xml"
        return Answer(200, doc, cache, content_type=ctype)

    def _rss(self, name: str, tl: list[Any]) -> str:
        items = "".join(
            f"<item><title>{escape(p.text.split(chr(10))[0][:60])}</title>"
            f"<link>{self.base_url}/posts/{p.id}.html</link>"
            f"<guid>{p.id}</guid>"
            f"<pubDate>{format_datetime(p.created_at, usegmt=True)}</pubDate>"
            f"<description>{escape('<p>' + escape(p.text) + '</p>')}</description></item>"
            for p in tl
        )
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{escape(name)}</title><link>{self.base_url}/</link>"
                f"<description>blog</description>{items}</channel></rss>")

    def _atom(self, name: str, tl: list[Any]) -> str:
        entries = "".join(
            f"<entry><title>{escape(p.text.split(chr(10))[0][:60])}</title>"
            f'<link href="{self.base_url}/posts/{p.id}.html"/>'
            f"<id>urn:uuid:{p.id}</id>"
            f"<updated>{(p.edited_at or p.created_at).isoformat()}</updated>"
            f"<published>{p.created_at.isoformat()}</published>"
            f'<content type="html">{escape(escape(p.text))}</content></entry>'
            for p in tl
        )
        return (f'<?xml version="1.0" encoding="utf-8"?>'
                f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(name)}</title>'
                f"<id>urn:feed:{escape(name)}</id><updated>2026-03-01T12:00:00Z</updated>"
                f"{entries}</feed>")
