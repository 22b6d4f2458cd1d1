"""The embedded demo: a fictional company, its opted-in accounts and a week of posts.

It runs the real parts end to end (store, replay collector, pipeline, flag log, planner,
outbox) with a console notifier instead of Slack, so a new user sees the whole product
without credentials or network.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console

from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.domain import utcnow
from monitor.guidance.notifier import ConsoleNotifier
from monitor.guidance.outbox import DeliveryReport, deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.factory import build_pipeline
from monitor.resources import demo_dir
from monitor.store import Store, repo
from monitor.store.flags import first_open_flag_with_author_told
from monitor.store.reports import sent_nudge_recipients, totals, visible_flag_categories

ACTOR = "demo"


@dataclass
class DemoResult:
    db_path: Path
    people: int = 0
    accounts_new: int = 0
    cycle: CycleReport = field(default_factory=CycleReport)
    now_delivery: DeliveryReport = field(default_factory=DeliveryReport)
    later_delivery: DeliveryReport = field(default_factory=DeliveryReport)
    self_resolved: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    flags_by_category: Counter[str] = field(default_factory=Counter)
    nudges_by_recipient: Counter[str] = field(default_factory=Counter)


def demo_settings(folder: Path, overrides: dict[str, object] | None = None) -> Settings:
    """The bundled demo config, with the store and replay file placed for this run."""
    data = tomllib.loads((demo_dir() / "config.toml").read_text(encoding="utf-8"))
    db = (folder / "socialguide.db").resolve()
    data["store"] = {"url": f"sqlite:///{db}"}
    data.setdefault("platforms", {}).setdefault("replay", {})["path"] = str(
        demo_dir() / "posts.jsonl"
    )
    for key, value in (overrides or {}).items():
        data[key] = value
    return settings_from_dict(data, source=str(demo_dir() / "config.toml"))


def _write_config(folder: Path, settings: Settings) -> None:
    """Leave a config beside the demo database so every other command can use it."""
    text = (demo_dir() / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///socialguide-demo/socialguide.db"',
                        f'url = "{settings.store.url}"')
    text = text.replace("[platforms.replay]\nenabled = true",
                        f'[platforms.replay]\nenabled = true\npath = "{settings.platforms.replay.path}"')
    (folder / "config.toml").write_text(text, encoding="utf-8")


def _load_accounts(store: Store, settings: Settings) -> int:
    path = demo_dir() / "accounts.csv"
    rows, errors = read_accounts_csv(path)
    with store.session() as s:
        ready = check_accounts(s, rows, errors, str(path))
        if errors:
            raise errors[0]
        created, _ = apply_accounts(s, ready, settings, actor=ACTOR)
    return created


def run_demo(
    folder: Path, console: Console, now: datetime | None = None, store_url: str | None = None
) -> DemoResult:
    """Run the demo into ``folder``; a second run finds everything already there.

    ``store_url`` puts the demo's data in another database (e.g. PostgreSQL) instead of the
    SQLite file in ``folder``; that database is migrated first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(folder, {"store": {"url": store_url}} if store_url else None)
    _write_config(folder, settings)
    store = Store(settings.store.url, auto_upgrade=True)
    result = DemoResult(db_path=folder / "socialguide.db")
    now = now or utcnow()
    try:
        people = read_people_csv(demo_dir() / "people.csv")
        with store.session() as s:
            check_managers(s, people, "people.csv")
            apply_people(s, people, actor=ACTOR)
        result.people = len(people.records)
        result.accounts_new = _load_accounts(store, settings)

        pipeline = build_pipeline(settings)
        result.cycle = run_cycle(store, settings, pipeline, build_collectors(settings), now=now)

        notifier = ConsoleNotifier(console)
        with _wrapping(console):
            console.rule("Nudges delivered now (authors first, privately)")
            result.now_delivery = deliver_due(store, notifier, settings, now=now)
            if result.now_delivery.sent:
                result.self_resolved = _simulate_author_resolves_first(store, now)
            later = now + timedelta(hours=settings.guidance.grace_hours, minutes=5)
            console.rule(f"{settings.guidance.grace_hours:g} h later: coaching notes for open "
                         "flags")
            result.later_delivery = deliver_due(store, notifier, settings, now=later)
        _collect_totals(store, result)
    finally:
        store.dispose()
    return result


@contextmanager
def _wrapping(console: Console) -> Iterator[None]:
    """Nudge panels wrap their lines even on a console that soft-wraps (which would cut them)."""
    before = console.soft_wrap
    console.soft_wrap = False
    try:
        yield
    finally:
        console.soft_wrap = before


def _simulate_author_resolves_first(store: Store, now: datetime) -> int:
    """The first author nudged answers "I've handled it", so their manager hears nothing."""
    with store.session() as s:
        flag = first_open_flag_with_author_told(s)
        if flag is None:
            return 0
        repo.set_flag_status(s, flag, "resolved", actor="author:demo",
                             resolution="self_resolved", now=now + timedelta(hours=1))
        return 1


def _collect_totals(store: Store, result: DemoResult) -> None:
    with store.session() as s:
        result.totals = totals(s)
        for cats in visible_flag_categories(s):
            for c in cats:
                result.flags_by_category[c] += 1
        for email, role in sent_nudge_recipients(s):
            result.nudges_by_recipient[f"{email or role} ({role})"] += 1
