"""``socialguide demo``: the README's first command works offline and is idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store import Store
from monitor.store.schema import AccountRow, AuditEventRow, FlagRow, NudgeRow, PostRow


def _counts(db: Path) -> dict[str, int]:
    store = Store(f"sqlite:///{db}")
    try:
        with store.session() as s:
            return {
                "posts": s.scalar(select(func.count(PostRow.id))) or 0,
                "flags": s.scalar(select(func.count(FlagRow.id))) or 0,
                "nudges": s.scalar(select(func.count(NudgeRow.id))) or 0,
                "sent": s.scalar(select(func.count(NudgeRow.id))
                                 .where(NudgeRow.status == "sent")) or 0,
                "audit": s.scalar(select(func.count(AuditEventRow.id))) or 0,
            }
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
