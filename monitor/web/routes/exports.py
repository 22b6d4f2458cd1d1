"""Exporting the flag log as CSV or JSON, streamed, with its start and its end audited.

The export's audit entry is written before the first row, and its chain head is sent in a
header and in the file, so a copy can be checked against the log later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.responses import StreamingResponse

from monitor.compliance import exports, queries
from monitor.compliance.queries import FlagQuery
from monitor.compliance.users import Viewer
from monitor.errors import NotFoundError
from monitor.store import Store
from monitor.store.audit import ChainHead, record
from monitor.store.flag_log import filtered
from monitor.web.deps import Context, Exporter

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/export/flags.{fmt}")
def export(request: Request, web: Context, viewer: Exporter, fmt: str) -> Response:
    """The flags the viewer may see under the page's filters, for those who may export."""
    if fmt not in ("csv", "json"):
        raise NotFoundError("no such export")
    query = queries.parse_query(dict(request.query_params))
    filters = query.as_params()
    filtered(viewer, query)  # a query that cannot be built fails here, as a page
    with web.store.session() as s:
        started = record(s, viewer.username, "flags.export", None, None,
                         {"format": fmt, "filters": filters, "role": viewer.role})
        head = ChainHead(int(started.id), started.at, started.hash or "")
    rows = exports.Counted(_stream_flags(web.store, viewer, query))
    if fmt == "csv":
        body = exports.stream_csv(rows, head, web.author_label, filters)
        media = "text/csv; charset=utf-8"
    else:
        body = exports.stream_json(rows, head, web.author_label, filters)
        media = "application/json"
    headers = {
        "Content-Disposition": f'attachment; filename="socialguide-flags.{fmt}"',
        "X-Socialguide-Chain-Head": head.as_text(),
    }
    audited = exports.audited(body, rows, partial(_export_outcome, web.store, viewer.username,
                                                  head.id, fmt))
    return StreamingResponse(audited, media_type=media, headers=headers)


def _stream_flags(store: Store, viewer: Viewer, query: FlagQuery) -> Iterator[Any]:
    # Its own session, open for as long as the response streams.
    with store.session() as s:
        yield from queries.iter_flags(s, viewer, query)


def _export_outcome(store: Store, actor: str, export_id: int, fmt: str,
                    outcome: exports.Outcome) -> None:
    """Audit how an export ended: complete, or failed after so many rows (and why)."""
    action = "flags.export_complete" if outcome.complete else "flags.export_failed"
    details: dict[str, Any] = {"export": export_id, "format": fmt, "rows": outcome.rows}
    if outcome.error:
        details["error"] = outcome.error
    try:
        with store.session() as s:
            record(s, actor, action, None, None, details)
    except Exception as exc:  # the export's own outcome must not hide the original failure
        log.error("could not audit the end of export %s: %s", export_id, type(exc).__name__)
    if not outcome.complete:
        log.error("export %s failed after %s rows: %s", export_id, outcome.rows, outcome.error)
