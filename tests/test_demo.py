"""``socialguide demo``: the README's first command works offline and is idempotent."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo import run_demo
from monitor.store import Store, audit
from monitor.store.schema import AccountRow, AuditEventRow, FlagRow, NudgeRow, PostRow

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


def _store_counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            "posts": s.scalar(select(func.count(PostRow.id))) or 0,
            "flags": s.scalar(select(func.count(FlagRow.id))) or 0,
            "nudges": s.scalar(select(func.count(NudgeRow.id))) or 0,
            "sent": s.scalar(select(func.count(NudgeRow.id))
                             .where(NudgeRow.status == "sent")) or 0,
            "audit": s.scalar(select(func.count(AuditEventRow.id))) or 0,
        }


def _counts(db: Path) -> dict[str, int]:
    store = Store(f"sqlite:///{db}")
    try:
        return _store_counts(store)
    finally:
        store.dispose()


def test_demo_runs_end_to_end_and_twice_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--dir", str(folder)])
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert "read 46 posts from 11 consented accounts" in out
    assert "Database:" in out and "socialguide.db" in out
    assert "credentials" in out and "pii" in out
    db = folder / "socialguide.db"
    after_first = _counts(db)
    assert after_first["posts"] == 45  # 46 records: one is an edit of an earlier post
    assert after_first["flags"] >= 4
    assert after_first["sent"] >= 4
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        # The account that never opted in was never read.
        assert s.scalar(select(PostRow).where(PostRow.author == "patdoe.bsky.social")) is None
        assert s.scalar(select(AccountRow).where(AccountRow.handle == "patdoe.bsky.social")) is None
        # The deleted post's flag (if any) is resolved as removed by the author.
        deleted = s.scalar(select(PostRow).where(PostRow.post_id == "reddit-riley_sells-4"))
        assert deleted is not None and deleted.deleted_at is not None
        for flag in s.scalars(select(FlagRow).where(FlagRow.post_id == deleted.id,
                                                   FlagRow.status != "shadow")):
            assert flag.resolution == "removed_by_author"
        # Manager notes only for flags still open after the grace window.
        for n in s.scalars(select(NudgeRow).where(NudgeRow.role == "manager",
                                                   NudgeRow.status == "sent")):
            flag = s.get(FlagRow, n.flag_id)
            assert flag is not None and flag.resolution != "self_resolved"
    store.dispose()

    second = runner.invoke(app, ["demo", "--dir", str(folder)])
    assert second.exit_code == 0, second.output
    assert "read 0 posts" in second.stdout
    after_second = _counts(db)
    for key in ("posts", "flags", "nudges", "sent"):
        assert after_second[key] == after_first[key], key
    assert (folder / "config.toml").is_file()
    check = runner.invoke(app, ["config", "check", str(folder / "config.toml")])
    assert check.exit_code == 0, check.output


def test_demo_flow_on_either_store_stores_once_flags_and_nudges(
    store_url: str, tmp_path: Path
) -> None:
    console = Console(file=io.StringIO(), width=120)
    first = run_demo(tmp_path / "demo", console, now=NOW, store_url=store_url)
    assert (first.cycle.posts_read, first.cycle.accounts) == (46, 11)
    assert first.cycle.skipped == {} and not first.cycle.errors
    assert first.accounts_new == 11 and first.people > 0
    store = Store(store_url, auto_upgrade=False)
    try:
        after_first = _store_counts(store)
        assert after_first["posts"] == 45  # 46 records: one is an edit of an earlier post
        assert after_first["flags"] >= 4 and after_first["sent"] >= 4
        assert {"credentials", "pii"} <= set(first.flags_by_category)
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
            managers = s.scalars(select(NudgeRow).where(NudgeRow.role == "manager",
                                                         NudgeRow.status == "sent")).all()
            assert managers, "no coaching note went out after the grace window"
            for n in managers:
                flag = s.get(FlagRow, n.flag_id)
                assert flag is not None and flag.resolution != "self_resolved"
            assert first.self_resolved == 1
            # Every nudge went out once: one per (flag, role) and no key twice.
            keys = s.scalars(select(NudgeRow.idempotency_key)).all()
            assert len(keys) == len(set(keys))
            report = audit.verify(s)
            assert report.ok, [str(p) for p in report.problems]
            assert report.flags_checked == after_first["flags"]
    finally:
        store.dispose()

    second = run_demo(tmp_path / "demo", console, now=NOW, store_url=store_url)
    assert second.cycle.posts_read == 0 and second.accounts_new == 0
    assert second.now_delivery.sent == 0 and second.later_delivery.sent == 0
    store = Store(store_url, auto_upgrade=False)
    try:
        after_second = _store_counts(store)
    finally:
        store.dispose()
    for key in ("posts", "flags", "nudges", "sent"):
        assert after_second[key] == after_first[key], key
    # The demo's config names the store it was given ("postgresql+psycopg", "sqlite").
    assert store_url.split("://")[0] in (tmp_path / "demo" / "config.toml").read_text(
        encoding="utf-8")
