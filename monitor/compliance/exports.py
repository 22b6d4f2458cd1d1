"""CSV and JSON exports of a filtered flag view, streamed, each carrying the chain head."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


class ExportFailed(Exception):
    """An export broke off after it started: the response is cut short, never passed off whole."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an export ended, for its audit entry."""

    complete: bool
    rows: int
    error: str | None = None


class Counted:
    """Pass rows through, counting them (the count goes into the export's outcome)."""

    def __init__(self, rows: Iterable[FlagRow]):
        self._rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[FlagRow]:
        for row in self._rows:
            yield row
            self.n += 1


def failure_line(rows: int) -> str:
    """The last line of a broken export: a CSV comment, and invalid JSON on purpose."""
    return f"\n# EXPORT FAILED after {rows} rows: this file is incomplete; export again\n"


def audited(body: Iterable[str], counted: Counted,
            on_end: Callable[[Outcome], None]) -> Iterator[str]:
    """Stream ``body``; report the outcome once; on an error end with a failure line and abort.

    Raising after the failure line makes the server drop the connection before the final
    chunk, so HTTP clients see an incomplete response as well as the line.
    """
    try:
        yield from body
    except GeneratorExit:
        on_end(Outcome(False, counted.n, "the client went away"))
        raise
    except Exception as exc:
        on_end(Outcome(False, counted.n, type(exc).__name__))
        yield failure_line(counted.n)
        raise ExportFailed(f"export failed after {counted.n} rows") from None
    on_end(Outcome(True, counted.n))
