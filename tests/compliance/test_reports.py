"""The effectiveness report, on SQLite and PostgreSQL: figures from known data, the dashboard
page, CSV and the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance.reports import build_report, parse_since, report_csv
from tests import factories as fx
from tests.web_support import build_world, client, sign_in

_seed = fx.seed_report


def test_report_figures(store_settings, store):
    _seed(store)
    with store.session() as s:
        rep = build_report(s, store_settings, parse_since("90d"))
    assert rep.flags_total == 3
    assert sum(sum(w.values()) for w in rep.weekly.values()) == 3
    assert (rep.resolved, rep.self_resolved, rep.self_resolved_share) == (2, 1, 0.5)
    assert rep.ttr_median_hours == 6.0
    rules = {r.source: r for r in rep.rules}
    assert (rules["rule:pii.phone"].findings, rules["rule:pii.phone"].precision) == (2, 0.5)
    assert rules["model:tfidf"].precision == 0.0
    assert rep.noisiest()[0].source in ("rule:pii.phone", "model:tfidf")
    assert rep.nudges_sent == 6
    assert (rep.person_weeks, rep.person_weeks_over_budget) == (2, 1)
    assert [d["last_error"] for d in rep.dead_nudges] == ["user_not_found"]
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert ["resolution", "self_resolved_share", "", "0.5"] in rows
    assert ["rule", "rule:pii.phone", "precision", "0.5"] in rows


def test_since_is_validated(settings, fresh_store):
    import pytest

    from monitor.errors import InputError

    for bad in ("ninety", "0d", "90x"):
        with pytest.raises(InputError):
            parse_since(bad)


def test_reports_page_draws_charts_for_compliance_only(store_settings, store):
    build_world(store)
    _seed(store)
    cora = sign_in(client(store_settings, store), "cora")
    html = cora.get("/reports", params={"since": "90d"}).text
    assert html.count("<svg") >= 2 and "Dead-lettered nudges" in html
    assert "user_not_found" in html
    csv_text = cora.get("/reports/report.csv").text
    assert csv_text.startswith("section,key,subkey,value")
    auditor = sign_in(client(store_settings, store), "audrey")
    assert "Dead-lettered nudges" not in auditor.get("/reports").text
    mia = sign_in(client(store_settings, store), "mia")
    assert mia.get("/reports").status_code == 404
    assert cora.get("/reports", params={"since": "1 OR 1=1"}).status_code == 400
    assert cora.get("/reports", params={"foo": "1"}).status_code == 400


def test_cli_report_writes_csv_json_and_html(store, store_config: Path, tmp_path: Path):
    _seed(store)
    cfg = store_config
    runner = CliRunner()
    for name in ("r.csv", "r.json", "r.html"):
        out = tmp_path / name
        r = runner.invoke(app, ["report", "--since", "90d", "-o", str(out), "--config", str(cfg)])
        assert r.exit_code == 0, r.output
    assert "self_resolved_share" in (tmp_path / "r.csv").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["flags_total"] == 3
    assert "<svg" in (tmp_path / "r.html").read_text()
    r = runner.invoke(app, ["report", "--since", "soon", "--config", str(cfg)])
    assert r.exit_code == 1 and "--since" in r.output
