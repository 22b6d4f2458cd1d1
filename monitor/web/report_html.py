"""The report as one self-contained HTML file (``socialguide report -o report.html``)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.compliance.reports import Report
from monitor.web import charts

HERE = Path(__file__).resolve().parent


def render_report_html(rep: Report) -> str:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape()
    )
    css = (HERE / "static" / "style.css").read_text(encoding="utf-8")
    precision = [(r.source, r.precision) for r in rep.rules if r.precision is not None]
    return env.get_template("report_file.html").render(
        rep=rep, css=css,
        weekly_chart=charts.stacked_bars(rep.weekly, rep.categories, title="Flags per week"),
        precision_chart=charts.hbars([(s, p) for s, p in precision if p is not None][:15]),
        nudge_chart=charts.stacked_bars({w: {"sent": n} for w, n in rep.nudges_weekly.items()},
                                        ["sent"], title="Nudges per week"),
    )
