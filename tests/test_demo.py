"""``socialguide demo``: the README's first command tells a true story, offline, and a second
run duplicates nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo import DEMO_USERS, run_demo
from monitor.demo.run import launch_time
from monitor.domain import CATEGORIES
from monitor.resources import demo_dir
from monitor.store import Store, audit
from monitor.store.schema import (
    AccountRow,
    AuditEventRow,
    Base,
    ConsentRow,
    FeedbackRow,
    FlagRow,
    NudgeRow,
    PostRow,
    UserRow,
    UTCDateTime,
)

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
WIDE = {"COLUMNS": "200"}


def _store_counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            "posts": s.scalar(select(func.count(PostRow.id))) or 0,
            "flags": s.scalar(select(func.count(FlagRow.id))) or 0,
            "nudges": s.scalar(select(func.count(NudgeRow.id))) or 0,
            "sent": s.scalar(select(func.count(NudgeRow.id))
                             .where(NudgeRow.status == "sent")) or 0,
            "feedback": s.scalar(select(func.count(FeedbackRow.id))) or 0,
            "users": s.scalar(select(func.count(UserRow.id))) or 0,
            "audit": s.scalar(select(func.count(AuditEventRow.id))) or 0,
        }


def _latest_timestamps(store: Store) -> dict[str, datetime]:
    """The latest value of every timestamp column of every table ("table.column")."""
    out: dict[str, datetime] = {}
    with store.session() as s:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if isinstance(col.type, UTCDateTime):
                    latest = s.scalar(select(func.max(col)))
                    if latest is not None:
                        out[f"{table.name}.{col.name}"] = latest
    return out


def test_demo_runs_end_to_end_and_twice_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--dir", str(folder)], env=WIDE)
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert "! story line" not in out, out[-3000:]
    assert "Database:" in out and "socialguide.db" in out
    assert f"web --config {folder / 'config.toml'}" in out and "http://127.0.0.1:8080/" in out
    for role, username, _, _ in DEMO_USERS:
        line = next(ln for ln in out.splitlines() if f"user {username} " in ln)
        assert line.split()[0] == role and "(already exists)" not in line
    db = folder / "socialguide.db"
    store = Store(f"sqlite:///{db}")
    try:
        after_first = _store_counts(store)
        assert after_first["users"] == len(DEMO_USERS)
        with store.session() as s:
            # The account that never opted in was never read.
            assert s.scalar(select(PostRow).where(PostRow.author == "patdoe.bsky.social")) is None
            assert s.scalar(select(AccountRow)
                            .where(AccountRow.handle == "patdoe.bsky.social")) is None
            deleted = s.scalar(select(PostRow).where(PostRow.post_id == "reddit-riley_sells-4"))
            assert deleted is not None and deleted.deleted_at is not None
            for flag in s.scalars(select(FlagRow).where(FlagRow.post_id == deleted.id,
                                                       FlagRow.status != "shadow")):
                assert flag.resolution == "removed_by_author"
    finally:
        store.dispose()

    second = runner.invoke(app, ["demo", "--dir", str(folder)], env=WIDE)
    assert second.exit_code == 0, second.output
    assert "read 0 posts and sent 0 nudges" in second.stdout
    assert second.stdout.count("(already exists)") == len(DEMO_USERS)
    assert "users reset-password USER" in second.stdout
    store = Store(f"sqlite:///{db}")
    try:
        after_second = _store_counts(store)
    finally:
        store.dispose()
    for key in ("posts", "flags", "nudges", "sent", "feedback", "users"):
        assert after_second[key] == after_first[key], key
    check = runner.invoke(app, ["config", "check", str(folder / "config.toml")])
    assert check.exit_code == 0, check.output


def test_demo_story_on_either_store_is_true_and_never_dated_after_now(
    store_url: str, tmp_path: Path
) -> None:
    console = Console(file=io.StringIO(), width=120)
    first = run_demo(tmp_path / "demo", console, now=NOW, store_url=store_url)
    assert first.told and first.problems == []
    assert first.accounts_new == 11 and first.people == 12
    assert first.cycle.skipped == {} and not first.cycle.errors
    summary = first.summary
    # Every policy category has at least one flag; every week of the story has flags or posts.
    assert set(summary.by_category) == set(CATEGORIES)
    assert summary.resolutions["self_resolved"] >= 5
    assert summary.resolutions["manager_resolved"] >= 1
    assert summary.by_status["dismissed"] == 1 and summary.legal_holds == 1
    assert summary.shadow >= 1
    store = Store(store_url, auto_upgrade=False)
    try:
        after_first = _store_counts(store)
        latest = _latest_timestamps(store)
        with store.session() as s:
            weeks = {(p - timedelta(days=p.weekday())).date()
                     for p in s.scalars(select(PostRow.created_at)) if p is not None}
            launch = launch_time(NOW)
            monday = (launch - timedelta(days=launch.weekday())).date()
            while monday <= NOW.date():
                assert monday in weeks, f"no post in the week of {monday}"
                monday += timedelta(weeks=1)
            oldest = s.scalar(select(func.min(FlagRow.created_at)))
            assert oldest is not None and oldest >= NOW - timedelta(weeks=12)
            # Manager notes went only for flags not resolved by their author in time, and
            # only a grace window after the author was told.
            managers = s.scalars(select(NudgeRow).where(NudgeRow.role == "manager",
                                                         NudgeRow.status == "sent")).all()
            assert managers
            for n in managers:
                flag = s.get(FlagRow, n.flag_id)
                assert flag is not None and flag.resolution != "self_resolved"
                told = s.scalar(select(NudgeRow.sent_at).where(
                    NudgeRow.idempotency_key == f"flag:{n.flag_id}:author"))
                assert told is not None and n.sent_at is not None
                assert n.sent_at - told >= timedelta(hours=24)
            for flag in s.scalars(select(FlagRow).where(FlagRow.resolution == "self_resolved")):
                told = s.scalar(select(NudgeRow.sent_at).where(
                    NudgeRow.idempotency_key == f"flag:{flag.id}:author"))
                assert told is not None and flag.resolved_at is not None
                assert flag.resolved_at - told <= timedelta(hours=24)
            # The opt-out: consent withdrawn, text erased, except the flag on legal hold.
            morgan = s.scalar(select(AccountRow).where(
                AccountRow.handle == "morgan@mastodon.social"))
            assert morgan is not None
            assert s.scalar(select(ConsentRow.withdrawn_at)
                            .where(ConsentRow.account_id == morgan.id)) is not None
            held = s.scalars(select(FlagRow).where(FlagRow.legal_hold)).all()
            assert [f.account_id for f in held] == [morgan.id] and held[0].excerpt
            texts = s.scalars(select(PostRow.text).where(PostRow.account_id == morgan.id)).all()
            assert sum(t is not None for t in texts) == 1 and len(texts) > 1
            # A reviewer dismissed one false positive; verdicts per finding exist.
            assert s.scalar(select(func.count(FeedbackRow.id)).where(
                FeedbackRow.role == "reviewer", FeedbackRow.verdict == "not_a_concern")) >= 2
            keys = s.scalars(select(NudgeRow.idempotency_key)).all()
            assert len(keys) == len(set(keys))
            report = audit.verify(s)
            assert report.ok, [str(p) for p in report.problems]
    finally:
        store.dispose()
    future = {col: at for col, at in latest.items() if at > NOW}
    assert future == {}, f"written after now: {future}"
    assert "flags.created_at" in latest and "nudges.sent_at" in latest

    second = run_demo(tmp_path / "demo", console, now=NOW, store_url=store_url)
    assert not second.told and second.cycle.posts_read == 0 and second.sent == 0
    assert second.accounts_new == 0
    assert all(u.password is None for u in second.users)
    store = Store(store_url, auto_upgrade=False)
    try:
        after_second = _store_counts(store)
        assert all(at <= NOW for at in _latest_timestamps(store).values())
    finally:
        store.dispose()
    for key in ("posts", "flags", "nudges", "sent", "feedback", "users"):
        assert after_second[key] == after_first[key], key
    # The demo's config names the store it was given ("postgresql+psycopg", "sqlite").
    assert store_url.split("://")[0] in (tmp_path / "demo" / "config.toml").read_text(
        encoding="utf-8")


def test_the_story_keeps_every_post_of_the_sample_week() -> None:
    sample = {}
    for line in (demo_dir() / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "created_at" in rec:
            sample[rec["id"]] = rec["text"]
    story = {}
    for line in (demo_dir() / "story.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line).get("post", {})
        story.setdefault(rec.get("id"), rec.get("text"))
    assert {pid: story.get(pid) for pid in sample} == sample
