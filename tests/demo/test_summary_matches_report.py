"""The demo's printed summary and ``socialguide report --since 90d`` agree to the unit."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.resources import demo_dir

WIDE = {"COLUMNS": "200"}
ROW = re.compile(r"^\s*(\S+)\s+│\s+(\d+)\s+│\s+(\d+)\s+│\s+(\d+)\s*$")
CATEGORY = re.compile(r"^\s*([a-z_]+)\s+│\s+(\d+)\s*$")


def _printed(out: str) -> dict[str, object]:
    """The figures the demo's summary prints."""
    summary = out[out.index("─ Summary ─"):]
    weeks: dict[str, tuple[int, int, int]] = {}
    cats: dict[str, int] = {}
    for line in summary.splitlines():
        m = ROW.match(line)
        if m:
            weeks[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
            continue
        c = CATEGORY.match(line)
        if c:
            cats[c.group(1)] = int(c.group(2))
    status = re.search(r"^Flags by status: (.*)$", summary, re.M)
    shadow = re.search(r"^Shadow log \(compliance only\): (\d+) flags", summary, re.M)
    nudges = re.search(r"^Nudges sent: (\d+) ", summary, re.M)
    drafts = re.search(r"(\d+) drafts checked before posting", summary)
    dead = re.search(r"dead-lettered \([^)]*\): (\d+)", summary)
    assert status and shadow and nudges and drafts and dead, summary
    by_status = {k: int(v) for k, v in (p.rsplit(" ", 1) for p in status.group(1).split(", "))}
    return {"weeks": weeks, "categories": cats, "by_status": by_status,
            "shadow": int(shadow.group(1)), "nudges": int(nudges.group(1)),
            "drafts": int(drafts.group(1)), "dead": int(dead.group(1))}


def test_demo_summary_and_report_agree_to_the_unit(tmp_path: Path) -> None:
    folder = tmp_path / "socialguide-demo"
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", "--dir", str(folder)], env=WIDE)
    assert demo.exit_code == 0, demo.output
    printed = _printed(demo.stdout)
    res = runner.invoke(app, ["report", "--config", str(folder / "config.toml"),
                              "--since", "90d"])
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout[res.stdout.index("section,"):])))[1:]
    report = {(sec, key, sub): val for sec, key, sub, val in rows}
    weekly_flags: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    for sec, key, sub, val in rows:
        if sec == "flags_per_week":
            weekly_flags[key] += int(val)
            by_category[sub] += int(val)
    weeks = printed["weeks"]
    assert isinstance(weeks, dict)
    total = weeks.pop("total")
    assert total[0] == int(report[("flags", "total", "")]) > 0
    assert {w: f for w, (f, _, _) in weeks.items() if f} == dict(weekly_flags)
    assert printed["categories"] == dict(by_category)
    assert printed["shadow"] == int(report[("flags", "shadow", "")]) > 0
    assert printed["by_status"] == {key: int(val) for (sec, key, _), val in report.items()
                                    if sec == "flags_by_status"}
    by_status = printed["by_status"]
    assert isinstance(by_status, dict)
    assert by_status["resolved"] == int(report[("resolution", "resolved", "")])
    assert total[1] == int(report[("resolution", "self_resolved", "")]) > 0
    assert total[2] == printed["nudges"] == int(report[("nudges", "sent", "")]) > 0
    assert {w: n for w, (_, _, n) in weeks.items() if n} == {
        key: int(val) for (sec, key, _), val in report.items() if sec == "nudges_per_week"}
    story_drafts = sum("draft" in json.loads(line) for line in
                       (demo_dir() / "story.jsonl").read_text(encoding="utf-8").splitlines())
    assert printed["drafts"] == story_drafts == int(report[("drafts_checked", "total", "")])
    # Every chart and table of the report has something to show.
    sections = {sec for sec, _, _, _ in rows}
    assert {"flags_per_week", "rule", "shadow_rule", "nudges_per_week",
            "drafts_checked_per_week", "time_to_resolution_hours"} <= sections
    assert int(report[("change_last_30d", "flags", "previous")]) > 0
    # A coaching note to a manager whose Slack account was deactivated is dead-lettered.
    assert printed["dead"] == int(report[("nudges", "dead_lettered", "")]) == 1
    html = folder / "report.html"
    res = runner.invoke(app, ["report", "--config", str(folder / "config.toml"),
                              "--since", "90d", "-o", str(html)])
    assert res.exit_code == 0, res.output
    table = html.read_text(encoding="utf-8").split('id="dead-nudges"')[1].split("</table>")[0]
    assert "account_inactive" in table and "coaching" in table
    assert any(sec == "rule" and sub == "not_a_concern" and int(val) > 0
               for sec, _, sub, val in rows)
