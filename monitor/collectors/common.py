"""Small helpers every platform collector shares: text clean-up, times, limits."""

from __future__ import annotations

import html
import queue
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Generic, TypeVar

from monitor.domain import Post

T = TypeVar("T")


class _TextExtractor(HTMLParser):
    """Keeps the text of an HTML fragment; paragraphs and line breaks become newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "blockquote"):
            self.parts.append("\n\n")
        elif tag in ("div", "li"):
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


class ClientPool(Generic[T]):
    """Reusable library clients, one per concurrent fetch, kept across cycles.

    The client libraries are not documented as thread-safe; a pool gives each running fetch
    its own client while tokens and connections survive from one cycle to the next.
    """

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._idle: queue.SimpleQueue[T] = queue.SimpleQueue()

    @contextmanager
    def client(self) -> Iterator[T]:
        try:
            c = self._idle.get_nowait()
        except queue.Empty:
            c = self._factory()
        try:
            yield c
        finally:
            self._idle.put(c)
