"""The report's charts, and the report as one self-contained HTML file
(``socialguide report -o report.html``): the dashboard page and the file draw the same charts
from the same figures."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from monitor.compliance.reports import Report
from monitor.web import charts

HERE = Path(__file__).resolve().parent


def report_charts(rep: Report) -> dict[str, Markup]:
    """The weekly flags, per-rule precision and weekly nudges charts of one report."""
    precision = [(r.source, r.precision) for r in rep.rules if r.precision is not None]
    return {
        "weekly": charts.stacked_bars(rep.weekly, rep.categories,
                                      title="Flags per category per week", y_label="flags",
                                      empty="No flags in this window."),
        "precision": charts.hbars(
            [(s, p) for s, p in precision if p is not None][:15], top=1.0,
            empty="No reviewer or employee verdicts on live findings in this window yet."),
        "nudges": charts.stacked_bars(
            {w: {"sent": n} for w, n in _every_week(rep, rep.nudges_weekly).items()}, ["sent"],
            title="Nudges sent per week", y_label="nudges",
            empty="No nudges sent in this window."),
    }


def _every_week(rep: Report, counts: dict[str, int]) -> dict[str, int]:
    """``counts`` with a zero for each week of the window that has none."""
    return {w: counts.get(w, 0) for w in sorted({*rep.weekly, *counts})}


def render_report_html(rep: Report) -> str:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape()
    )
    css = (HERE / "static" / "style.css").read_text(encoding="utf-8")
    return env.get_template("report_file.html").render(rep=rep, css=css,
                                                       charts=report_charts(rep))
