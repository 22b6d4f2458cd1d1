"""Replays posts from a JSONL file, as if a platform had published them.

Used by the demo and by operators who want to test a policy change on recorded posts. A
post id that appears again with a new text is an edit; ``{"id": …, "deleted": true}``
is a deletion.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from monitor.collectors.base import FetchResult
from monitor.domain import AccountRef, Cursor, Post
from monitor.errors import CollectorError


def parse_time(value: object) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` allowed); None for missing values."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 timestamp string, got {type(value).__name__}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ReplayCollector:
    """Serves every account found in one JSONL file; the cursor is the last line consumed."""

    platform = "replay"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise CollectorError(f"replay file not found: {self.path}", platform="replay")

    def platforms(self) -> set[str]:
        """The platforms that appear in the file (the cycle routes those accounts here)."""
        found: set[str] = set()
        for _, rec in self._records():
            found.add(str(rec.get("platform", "replay")))
        return found

    def _records(self) -> list[tuple[int, dict[str, object]]]:
        out: list[tuple[int, dict[str, object]]] = []
        with self.path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CollectorError(f"{self.path}:{n}: not JSON ({exc.msg})",
                                         platform="replay") from None
                if isinstance(rec, dict):
                    out.append((n, rec))
        return out

    def fetch(self, account: AccountRef) -> FetchResult:
        last = int(account.cursor.newest_id or 0)
        result = FetchResult(cursor=Cursor(newest_id=account.cursor.newest_id), requests=1)
        newest = last
        for n, rec in self._records():
            if n <= last:
                continue
            if str(rec.get("platform", "")) != account.platform:
                continue
            if str(rec.get("account", "")).lower() != account.handle.lower():
                continue
            newest = n
            if rec.get("deleted"):
                result.deleted_ids.append(str(rec["id"]))
                continue
            result.posts.append(
                Post(
                    id=str(rec["id"]),
                    text=str(rec.get("text", "")),
                    platform=account.platform,
                    author=account.handle,
                    created_at=parse_time(rec.get("created_at")),
                    url=str(rec["url"]) if rec.get("url") else None,
                    account_id=account.id,
                )
            )
        result.cursor.newest_id = str(newest) if newest else None
        return result
