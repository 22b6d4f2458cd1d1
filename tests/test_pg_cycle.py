"""The demo's collection cycle, flag log and outbox on PostgreSQL: same invariants as on SQLite."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.cli import app
from monitor.collectors.base import Collector, FetchResult
from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.demo import demo_settings, run_demo
from monitor.domain import AccountRef
from monitor.errors import InputError
from monitor.guidance.outbox import deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.factory import build_pipeline
from monitor.resources import demo_dir
from monitor.store import Store, audit, repo
from monitor.store.schema import (
    AccountRow,
    AuditEventRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)
from tests.pg_support import pg_store  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.postgres


def _counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            "posts": s.scalar(select(func.count(PostRow.id))) or 0,
            "flags": s.scalar(select(func.count(FlagRow.id))) or 0,
            "nudges": s.scalar(select(func.count(NudgeRow.id))) or 0,
            "sent": s.scalar(select(func.count(NudgeRow.id))
                             .where(NudgeRow.status == "sent")) or 0,
            "audit": s.scalar(select(func.count(AuditEventRow.id))) or 0,
        }


def test_demo_flow_on_postgresql_stores_once_flags_and_nudges(
    pg_database: str, tmp_path: Path
) -> None:
    console = Console(file=io.StringIO(), width=120)
    first = run_demo(tmp_path / "demo", console, now=NOW, store_url=pg_database)
    assert (first.cycle.posts_read, first.cycle.accounts) == (46, 11)
    assert first.cycle.skipped == {} and not first.cycle.errors
    assert first.accounts_new == 11 and first.people > 0
    store = Store(pg_database, auto_upgrade=False)
    try:
        after_first = _counts(store)
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

    second = run_demo(tmp_path / "demo", console, now=NOW, store_url=pg_database)
    assert second.cycle.posts_read == 0 and second.accounts_new == 0
    assert second.now_delivery.sent == 0 and second.later_delivery.sent == 0
    store = Store(pg_database, auto_upgrade=False)
    try:
        after_second = _counts(store)
    finally:
        store.dispose()
    for key in ("posts", "flags", "nudges", "sent"):
        assert after_second[key] == after_first[key], key
    assert "postgresql" in (tmp_path / "demo" / "config.toml").read_text(encoding="utf-8")


def test_people_import_and_cycle_store_awkward_posts(
    pg_store: Store, pg_database: str, tmp_path: Path  # noqa: F811
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name,slack_id,manager_email,team,timezone\n"
                      "boss@example.com,Boss,UBOSS1,,Ops,UTC\n"
                      "ann@example.com,Ann,UANN01,boss@example.com,Ops,Europe/Berlin\n",
                      encoding="utf-8")
    long_id = "https://feeds.example.org/item/" + "z" * 900
    lines = [
        {"id": "nul-1", "platform": "bluesky", "account": "ann.bsky.social",
         "text": "zero\u0000width my password is hunter2hunter2", "created_at": "2026-11-08T10:00:00Z"},
        {"id": long_id, "platform": "bluesky", "account": "ann.bsky.social",
         "text": "a long id", "url": "https://example.org/" + "u" * 3000,
         "created_at": "2026-11-08T11:00:00Z"},
        {"id": "plain", "platform": "bluesky", "account": "ann.bsky.social", "text": "hello"},
    ]
    replay = tmp_path / "posts.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    settings = settings_from_dict(
        {"store": {"url": pg_database}, "platforms": {"replay": {"enabled": True,
                                                                  "path": str(replay)}}},
        source="test")
    result = read_people_csv(people)
    assert not result.errors
    with pg_store.session() as s:
        check_managers(s, result, "people.csv")
        apply_people(s, result, actor="test")
    with pg_store.session() as s:
        ann = repo.require_person(s, "ann@example.com")
        assert ann.manager_id is not None
        repo.add_account_with_consent(s, ann, "bluesky", "ann.bsky.social", "1", "h", None,
                                      actor="test")
        with pytest.raises(InputError, match="handle is longer than 512"):
            repo.add_account_with_consent(s, ann, "rss", "https://x.example/" + "f" * 600, "1",
                                          "h", None, actor="test")
    pipeline = build_pipeline(settings)
    report = run_cycle(pg_store, settings, pipeline, build_collectors(settings), now=NOW)
    assert report.errors == {} and report.skipped == {}
    assert (report.posts_read, report.posts_new) == (3, 3)
    with pg_store.session() as s:
        acc = s.scalar(select(AccountRow).where(AccountRow.handle == "ann.bsky.social"))
        assert acc is not None and acc.last_error is None
        assert s.scalar(select(PostRow.post_id).where(PostRow.post_id == long_id)) == long_id
        assert s.scalar(select(func.count(PostRow.id))) == 3
    again = run_cycle(pg_store, settings, pipeline, build_collectors(settings), now=NOW)
    assert (again.posts_read, again.posts_new) == (0, 0)
    with pg_store.session() as s:
        assert s.scalar(select(func.count(PersonRow.id))) == 2
        assert audit.verify(s).ok


def test_people_import_refuses_values_wider_than_the_columns(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name,slack_id,manager_email,team,timezone\n"
                      f"a@example.com,{'N' * 201},UA0001,,Ops,UTC\n"
                      f"b@example.com,B,UB0001,,{'T' * 201},UTC\n", encoding="utf-8")
    result = read_people_csv(people)
    assert [e.line for e in result.errors] == [2, 3]
    assert "name is longer than 200" in str(result.errors[0])
    assert "team is longer than 200" in str(result.errors[1])


def test_operator_commands_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    text = (demo_dir() / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///socialguide-demo/socialguide.db"',
                        f'url = "{pg_database}"')
    text = text.replace("[platforms.replay]\nenabled = true",
                        f'[platforms.replay]\nenabled = true\npath = "{demo_dir() / "posts.jsonl"}"')
    cfg = tmp_path / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str) -> str:
        r = runner.invoke(app, [*args, "--config", str(cfg)], env={"COLUMNS": "300"})
        assert r.exit_code == 0, r.output
        return r.output

    # Before `db upgrade` a command says what to do instead of failing with a stack trace.
    r = runner.invoke(app, ["people", "import", str(demo_dir() / "people.csv"),
                            "--config", str(cfg)])
    assert r.exit_code != 0 and "socialguide db upgrade" in r.output
    assert "Traceback" not in r.output
    cli("db", "upgrade")
    assert "created" in cli("people", "import", str(demo_dir() / "people.csv"))
    assert "11 consent(s) recorded" in cli("accounts", "import", str(demo_dir() / "accounts.csv"))
    cli("run", "--once")
    listing = cli("accounts", "list")
    assert "alexkim.bsky.social" in listing
    cli("accounts", "withdraw", "--platform", "bluesky", "--handle", "alexkim.bsky.social")
    assert "\nok: " in cli("log", "verify")  # after the "store: …" line
    store = Store(pg_database, auto_upgrade=False)
    try:
        with store.session() as s:
            texts = s.scalars(select(PostRow.text).where(
                PostRow.author == "alexkim.bsky.social")).all()
            assert texts and all(t is None for t in texts)
            assert s.scalar(select(func.count(PostRow.id))) == 45
    finally:
        store.dispose()


def test_two_workers_running_the_same_cycle_duplicate_nothing(
    pg_store: Store, pg_database: str, tmp_path: Path  # noqa: F811
) -> None:
    def settings_for(worker: str):  # type: ignore[no-untyped-def]
        return demo_settings(tmp_path, {"store": {"url": pg_database},
                                        "scheduler": {"worker_id": worker}})

    base = settings_for("setup")
    people = read_people_csv(demo_dir() / "people.csv")
    rows, errors = read_accounts_csv(demo_dir() / "accounts.csv")
    with pg_store.session() as s:
        check_managers(s, people, "people.csv")
        apply_people(s, people, actor="test")
    with pg_store.session() as s:
        ready = check_accounts(s, rows, errors, "accounts.csv")
        apply_accounts(s, ready, base, actor="test")
    assert not errors
    workers = ["w1", "w2"]
    pipelines = {w: build_pipeline(settings_for(w)) for w in workers}
    start = threading.Barrier(len(workers))
    reports: dict[str, object] = {}
    failures: list[BaseException] = []
    sent: list[int] = []
    lock = threading.Lock()

    class Recording:
        def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
            with lock:
                sent.append(nudge.id)
            return f"test:{nudge.id}"

    def worker(name: str) -> None:
        own = Store(pg_database, auto_upgrade=False)
        try:
            settings = settings_for(name)
            start.wait()
            reports[name] = run_cycle(own, settings, pipelines[name],
                                      build_collectors(settings), now=NOW)
            start.wait()
            deliver_due(own, Recording(), settings, now=NOW)
        except BaseException as exc:
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [type(e).__name__ for e in failures] == []
    cycles = [reports[w] for w in workers]
    # Every account was collected (by one of them at a time; see the stale cursor test).
    assert sum(c.accounts for c in cycles) >= 11  # type: ignore[attr-defined]
    assert sorted(sent) == sorted(set(sent)) and sent
    with pg_store.session() as s:
        assert s.scalar(select(func.count(PostRow.id))) == 45
        live = s.scalars(select(FlagRow.post_id).where(FlagRow.status != "resolved")).all()
        assert len(live) == len(set(live))  # at most one live flag per post
        keys = s.scalars(select(NudgeRow.idempotency_key)).all()
        assert len(keys) == len(set(keys))
        assert s.scalar(select(func.count(NudgeRow.id)).where(NudgeRow.status == "sent")) \
            == len(sent)
        assert audit.verify(s).ok


class _PausingCollector:
    """A replay collector that runs ``during`` while it holds its first account's lease."""

    def __init__(self, inner: Collector, during: Callable[[], None]):
        self.inner, self.during, self.platform = inner, during, inner.platform
        self._once = threading.Lock()

    def fetch(self, account: AccountRef) -> FetchResult:
        if self._once.acquire(blocking=False):
            self.during()
        return self.inner.fetch(account)


def test_a_worker_that_claims_after_another_reads_from_the_new_cursor(
    pg_store: Store, pg_database: str, tmp_path: Path  # noqa: F811
) -> None:
    replay = tmp_path / "posts.jsonl"
    replay.write_text("".join(json.dumps(
        {"id": f"x-{i}", "platform": "bluesky", "account": "x.bsky.social", "text": f"hello {i}"}
    ) + "\n" for i in range(3)), encoding="utf-8")

    def settings_for(worker: str) -> Settings:
        return settings_from_dict({
            "store": {"url": pg_database}, "scheduler": {"worker_id": worker},
            "model": {"enabled": False},
            "platforms": {"replay": {"enabled": True, "path": str(replay)}},
        }, source="test")

    with pg_store.session() as s:
        owner = PersonRow(email="o@example.com")
        s.add(owner)
        s.flush()
        repo.add_account_with_consent(s, owner, "bluesky", "x.bsky.social", "1", "h", None,
                                      actor="test")
    a_settings, b_settings = settings_for("A"), settings_for("B")
    pipeline = build_pipeline(a_settings)
    b_report: list[CycleReport] = []
    blocker: list[Any] = []

    def start_b_while_a_holds_the_lease() -> None:
        # A new account whose cursor row another transaction is inserting: B lists both
        # accounts (x's cursor as it is now), then waits in ensure_cursors until we let go.
        with pg_store.session() as s:
            owner = repo.require_person(s, "o@example.com")
            y, _ = repo.add_account_with_consent(s, owner, "bluesky", "y.bsky.social", "1", "h",
                                                 None, actor="test")
            y_id = y.id
        conn = pg_store.engine.connect()
        conn.execute(text("INSERT INTO cursors (account_id, failures, updated_at) "
                          "VALUES (:id, 0, now())"), {"id": y_id})
        blocker.append(conn)
        t = threading.Thread(target=lambda: b_report.append(run_cycle(
            pg_store, b_settings, pipeline, build_collectors(b_settings), now=NOW)))
        t.start()
        blocker.append(t)
        _wait_until_blocked(pg_store)

    a = run_cycle(pg_store, a_settings, pipeline,
                  {"bluesky": _PausingCollector(build_collectors(a_settings)["bluesky"],
                                                start_b_while_a_holds_the_lease)}, now=NOW)
    conn, thread = blocker
    conn.rollback()  # A has finished and released x; let B go on
    conn.close()
    thread.join()
    assert a.posts_read == 3
    (b,) = b_report
    assert b.errors == {}
    assert b.posts_read == 0, "B read x's posts again from the cursor it listed before A"


def _wait_until_blocked(store: Store) -> None:
    polls = 0
    with store.engine.connect() as conn:
        while conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )).scalar_one() < 1:
            conn.rollback()
            polls += 1
            # A guard, not a timing assertion: the other side died before it could wait.
            assert polls < 200_000, "the other transaction never waited for a lock"
