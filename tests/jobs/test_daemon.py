"""``run --once`` and ``accounts`` through the CLI against fake platforms; the daemon's parts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_settings
from monitor.jobs.daemon import Daemon
from monitor.jobs.scheduler import Jobs, add_jobs
from monitor.metrics import JOB_FAILURES, MetricsServer
from monitor.slack.notifier import build_notifier
from monitor.store import Store
from monitor.store.schema import AccountRow, FlagRow, NudgeRow, PersonRow, PostRow
from tests.collectors.helpers import LEAK
from tests.fakes.bluesky_api import FakeBluesky
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.rss_feed import FakeFeeds


@pytest.fixture
def fakes() -> Iterator[dict[str, object]]:
    fb, fm, ff = FakeBluesky().start(), FakeMastodon().start(), FakeFeeds().start()
    fb.add_post("ana.bsky.social", f"deploy key {LEAK}")
    fb.add_post("ana.bsky.social", "lovely day")
    fm.add_post("ana", "hello fediverse")
    ff.add_post("blog.xml", "a blog post")
    yield {"bluesky": fb, "mastodon": fm, "rss": ff}
    for f in (fb, fm, ff):
        f.stop()  # type: ignore[attr-defined]


def _config(tmp: Path, fakes: dict[str, object], metrics_port: int = 0) -> Path:
    db = tmp / "sg.db"
    cfg = tmp / "config.toml"
    urls = {k: v.base_url for k, v in fakes.items()}  # type: ignore[attr-defined]
    cfg.write_text(f"""
[store]
url = "sqlite:///{db}"
[model]
enabled = false
[platforms.bluesky]
base_url = "{urls['bluesky']}"
timeout_seconds = 1
[platforms.mastodon]
base_url = "{urls['mastodon']}"
timeout_seconds = 1
[platforms.rss]
base_url = "{urls['rss']}"
timeout_seconds = 1
[scheduler]
metrics_port = {metrics_port}
[guidance.quiet_hours]
start = "00:00"
end = "00:00"
""")
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        s.add(PersonRow(email="ana@example.com", name="Ana", team="Sales"))
    store.dispose()
    return cfg


def _import(tmp: Path, cfg: Path, rows: str, *extra: str) -> object:
    csv = tmp / "accounts.csv"
    csv.write_text("email,platform,handle,consent_reference,policy_version\n" + rows)
    return CliRunner().invoke(app, ["accounts", "import", str(csv), "--config", str(cfg), *extra])


def test_accounts_import_validates_every_row(tmp_path: Path, fakes: dict[str, object]) -> None:
    cfg = _config(tmp_path, fakes)
    rows = ("ana@example.com,bluesky,ana.bsky.social,HR-1,2026.1\n"
            "not-an-email,bluesky,x.bsky.social,HR-2,2026.1\n"
            "ana@example.com,myspace,ana,HR-3,2026.1\n"
            "bob@example.com,mastodon,bob,HR-4,2026.1\n")
    res = _import(tmp_path, cfg, rows)
    assert res.exit_code == 1  # type: ignore[attr-defined]
    out = res.output  # type: ignore[attr-defined]
    assert "accounts.csv:3" in out and "accounts.csv:4" in out and "accounts.csv:5" in out
    assert "nothing imported" in out
    store = Store(load_settings(cfg).store.url)
    with store.session() as s:
        assert s.scalars(select(AccountRow)).all() == []
    res = _import(tmp_path, cfg, rows, "--skip-invalid")
    assert res.exit_code == 0 and "1 consent(s) recorded" in res.output  # type: ignore[attr-defined]
    store.dispose()


def test_run_once_collects_flags_delivers_and_reports(tmp_path: Path,
                                                      fakes: dict[str, object]) -> None:
    cfg = _config(tmp_path, fakes)
    rows = ("ana@example.com,bluesky,ana.bsky.social,HR-1,2026.1\n"
            "ana@example.com,mastodon,ana,HR-1,2026.1\n"
            "ana@example.com,rss,feeds/blog.xml,HR-1,2026.1\n"
            "ana@example.com,bluesky,ghost.bsky.social,HR-1,2026.1\n")
    assert _import(tmp_path, cfg, rows).exit_code == 0  # type: ignore[attr-defined]
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "Collection cycle" in res.output
    assert "bluesky/ghost.bsky.social" in res.output and "no such Bluesky account" in res.output
    assert "credentials 1" in res.output
    store = Store(load_settings(cfg).store.url)
    with store.session() as s:
        assert len(s.scalars(select(PostRow)).all()) == 4
        assert [f.category for f in s.scalars(select(FlagRow))] == ["credentials"]
        assert {n.status for n in s.scalars(select(NudgeRow))} >= {"sent"}
    listing = runner.invoke(app, ["accounts", "list", "--config", str(cfg)])
    assert "last error: bluesky/ghost.bsky.social: no such Bluesky account" in listing.output
    # A second run stores nothing twice.
    assert runner.invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 0
    with store.session() as s:
        assert len(s.scalars(select(PostRow)).all()) == 4
    res = runner.invoke(app, ["accounts", "withdraw", "--platform", "bluesky",
                              "--handle", "ana.bsky.social", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    with store.session() as s:
        texts = [p.text for p in s.scalars(select(PostRow).where(PostRow.platform == "bluesky"))]
        assert texts == [None, None]
        assert [f.excerpt for f in s.scalars(select(FlagRow))] == [None]
    fb = fakes["bluesky"]
    fb.clear_requests()  # type: ignore[attr-defined]
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0
    assert "backing off" in res.output  # the unknown handle waits before its next try
    assert fb.requests == []  # type: ignore[attr-defined]  # withdrawn: never requested again
    store.dispose()


def test_metrics_and_healthz_over_http(tmp_path: Path, fakes: dict[str, object]) -> None:
    cfg = _config(tmp_path, fakes)
    _import(tmp_path, cfg, "ana@example.com,bluesky,ana.bsky.social,HR-1,2026.1\n")
    server = MetricsServer("127.0.0.1", 0).start()
    try:
        assert CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 0
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
            text = r.read().decode()
            assert r.headers["Content-Type"].startswith("text/plain")
        assert 'socialguide_posts_collected_total{platform="bluesky"}' in text
        assert 'socialguide_last_good_cycle_timestamp_seconds{platform="bluesky"}' in text
        assert 'socialguide_flags_total{category="credentials",platform="bluesky"}' in text
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            health = json.loads(r.read())
        assert health["status"] == "ok" and "bluesky" in health["last_good_cycle"]
    finally:
        server.stop()


def test_scheduler_registers_every_job(tmp_path: Path, fakes: dict[str, object]) -> None:
    settings = load_settings(_config(tmp_path, fakes))
    store = Store(settings.store.url)
    daemon = Daemon(settings, store, build_notifier(settings))
    ids = set(daemon.start())
    try:
        assert {"collect:bluesky", "collect:mastodon", "collect:rss", "deliver", "digests",
                "purge"} <= ids
        jobs = {j.id: j for j in daemon.scheduler.get_jobs()}
        assert jobs["collect:bluesky"].max_instances == 1 and jobs["deliver"].coalesce
        assert jobs["collect:bluesky"].trigger.jitter == settings.scheduler.jitter_seconds
    finally:
        daemon.stop()
        daemon.wait()
        store.dispose()
    assert not daemon.scheduler.running


def test_a_failing_job_is_counted_not_fatal(tmp_path: Path, fakes: dict[str, object]) -> None:
    settings = load_settings(_config(tmp_path, fakes))
    store = Store(settings.store.url)
    jobs = Jobs(store, settings, None, {}, None)  # type: ignore[arg-type]
    before = JOB_FAILURES.labels("digests")._value.get()
    assert jobs._guard("digests", lambda: 1 / 0) is None
    assert JOB_FAILURES.labels("digests")._value.get() == before + 1
    sch = BackgroundScheduler()
    assert "deliver" in add_jobs(sch, jobs)
    store.dispose()
