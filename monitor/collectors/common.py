"""Small helpers every platform collector shares: text clean-up, times, limits."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from monitor.domain import Post


class _TextExtractor(HTMLParser):
    """Keeps the text of an HTML fragment; paragraphs and line breaks become newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div", "li", "blockquote"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_BLANKS = re.compile(r"\n{3,}")


def strip_html(fragment: str) -> str:
    """Plain text of an HTML fragment (Mastodon statuses, feed summaries)."""
    if "<" not in fragment:
        return html.unescape(fragment).strip()
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return _BLANKS.sub("\n\n", "".join(parser.parts)).strip()


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO string, a datetime or epoch seconds; else None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def oldest(posts: list[Post]) -> datetime | None:
    """The earliest creation time among posts (the start of a newest-first window)."""
    times = [p.created_at for p in posts if p.created_at is not None]
    return min(times) if times else None
