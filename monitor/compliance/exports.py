"""CSV and JSON exports of a filtered flag view, streamed, each carrying the chain head."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from monitor.store.audit import ChainHead
from monitor.store.schema import FlagRow

COLUMNS = (
    "id", "created_at", "status", "category", "categories", "severity", "platform", "team",
    "author", "resolution", "reason", "legal_hold", "resolved_at", "erased", "excerpt",
)


def flag_record(flag: FlagRow, author: Callable[[int | None], str]) -> dict[str, Any]:
    """One exported row; the author is a pseudonym, never a name."""
    return {
        "id": flag.id,
        "created_at": flag.created_at.isoformat(),
        "status": flag.status,
        "category": flag.category,
        "categories": list(flag.categories or []),
        "severity": flag.severity,
        "platform": flag.platform,
        "team": flag.team,
        "author": author(flag.person_id),
        "resolution": flag.resolution,
        "reason": flag.reason,
        "legal_hold": bool(flag.legal_hold),
        "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
        "erased": flag.erased_at is not None,
        "excerpt": flag.excerpt,
    }


def _csv_line(values: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def stream_csv(
    flags: Iterable[FlagRow], head: ChainHead | None, author: Callable[[int | None], str],
    filters: dict[str, str],
) -> Iterator[str]:
    """CSV with a ``#`` comment line naming the chain head first and a trailer line last."""
    head_text = head.as_text() if head else "empty"
    yield f"# socialguide flag export; chain_head={head_text}; filters={json.dumps(filters)}\n"
    yield _csv_line(COLUMNS)
    n = 0
    for flag in flags:
        rec = flag_record(flag, author)
        rec["categories"] = ";".join(rec["categories"])
        yield _csv_line(_safe(rec[c]) for c in COLUMNS)
        n += 1
    yield f"# rows={n}; chain_head={head_text}\n"


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def stream_json(
    flags: Iterable[FlagRow], head: ChainHead | None, author: Callable[[int | None], str],
    filters: dict[str, str],
) -> Iterator[str]:
    """One JSON document, written piece by piece: chain head, filters, then the flags."""
    head_obj = {"id": head.id, "hash": head.hash} if head else None
    yield '{"chain_head": ' + json.dumps(head_obj) + ', "filters": ' + json.dumps(filters)
    yield ', "flags": ['
    n = 0
    for flag in flags:
        yield ("," if n else "") + "\n" + json.dumps(flag_record(flag, author), ensure_ascii=False)
        n += 1
    yield '\n], "rows": ' + str(n) + "}\n"
