"""The effectiveness report as a page with charts and as a CSV, for those who see everything.

Both carry the audit chain's head as it stood when the report was built.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from monitor.compliance.queries import BadQuery
from monitor.compliance.reports import Report, build_report, parse_since, report_csv
from monitor.store.audit import ChainHead, latest_head, record
from monitor.web.deps import Context, SeesEverything, WebContext
from monitor.web.report_html import report_charts

router = APIRouter()


def _report(web: WebContext, request: Request) -> tuple[str, Report, ChainHead | None]:
    since_raw = request.query_params.get("since", "90d")
    for key in request.query_params:
        if key != "since":
            raise BadQuery(key, "unknown parameter")
    if len(since_raw) > 20:
        raise BadQuery("since", "expected e.g. 90d, 12w or 2026-01-31")
    since = parse_since(since_raw)
    with web.store.session() as s:
        rep = build_report(s, web.settings, since)
        head = latest_head(s)
    return since_raw, rep, head


@router.get("/reports")
def reports(request: Request, web: Context, viewer: SeesEverything) -> Response:
    """The report since ``since`` (90 days by default), with its charts."""
    since_raw, rep, head = _report(web, request)
    return web.page(request, "reports.html", viewer=viewer, rep=rep, since=since_raw,
                    charts=report_charts(rep), head=head)


@router.get("/reports/report.csv")
def reports_csv(request: Request, web: Context, viewer: SeesEverything) -> Response:
    """The same report as CSV; the download is audited."""
    _since_raw, rep, head = _report(web, request)
    with web.store.session() as s:
        record(s, viewer.username, "report.export", None, None, {"format": "csv"})
    return Response(
        report_csv(rep), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="socialguide-report.csv"',
                 "X-Socialguide-Chain-Head": head.as_text() if head else "empty"},
    )
