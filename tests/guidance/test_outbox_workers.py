"""Outbox jobs with several workers, on SQLite and PostgreSQL: each due nudge is sent once,
each digest queued once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from monitor.config import Settings, settings_from_dict
from monitor.guidance.digest import DigestReport, send_digests
from monitor.guidance.outbox import DeliveryReport, deliver_due
from monitor.store import Store
from monitor.store.schema import NudgeRow, PersonRow
from tests import factories as fx

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)  # outside the default quiet hours
NUDGES = 60
WORKERS = 2


class RecordingNotifier:
    """Records every send, from any thread."""

    def __init__(self, sent: list[int], lock: threading.Lock):
        self.sent, self.lock = sent, lock

    def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
        with self.lock:
            self.sent.append(nudge.id)
        return f"test:{nudge.id}"


def _due_nudges(store: Store) -> list[int]:
    with store.session() as s:
        ids = []
        for i in range(NUDGES):
            p = fx.person(s, f"p{i}@example.com", team="Ops")
            f = fx.flag(s, p, f"my password is hunter{i}hunter", audit=False)
            ids.append(fx.nudge(s, f, p, status="pending", sent_at=None).id)
    return ids


def _race(url: str, settings: Settings) -> tuple[list[int], list[DeliveryReport]]:
    sent: list[int] = []
    lock = threading.Lock()
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def worker() -> None:
        store = Store(url, auto_upgrade=False)  # a worker process has its own engine
        try:
            start.wait()
            reports.append(deliver_due(store, RecordingNotifier(sent, lock), settings, now=NOW))
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return sent, reports


def _check(store: Store, ids: list[int], sent: list[int], reports: list[DeliveryReport]) -> None:
    twice = sorted(n for n, c in Counter(sent).items() if c > 1)
    assert twice == [], f"{len(twice)} nudges were sent more than once"
    assert sorted(sent) == sorted(ids)
    assert sum(r.sent for r in reports) == NUDGES
    with store.session() as s:
        rows = s.scalars(select(NudgeRow).where(NudgeRow.id.in_(ids))).all()
        assert {r.status for r in rows} == {"sent"}
        assert all(r.attempts == 1 and r.external_ref == f"test:{r.id}" for r in rows)


def test_two_workers_never_send_a_nudge_twice(store_url: str) -> None:
    store = Store(store_url, auto_upgrade=True)
    try:
        ids = _due_nudges(store)
        settings = settings_from_dict({"store": {"url": store_url}}, source="test")
        sent, reports = _race(store_url, settings)
        _check(store, ids, sent, reports)
        # A later run finds nothing left to do.
        again, _ = _race(store_url, settings)
        assert again == []
    finally:
        store.dispose()


def test_two_workers_queue_each_digest_once_and_neither_fails(store_url: str) -> None:
    store = Store(store_url, auto_upgrade=True)
    managers = 30
    try:
        with store.session() as s:
            for i in range(managers):
                m = fx.person(s, f"m{i}@example.com", team=f"T{i}")
                e = fx.person(s, f"e{i}@example.com", manager=m, team=f"T{i}")
                fx.flag(s, e, created_at=NOW.replace(day=2), audit=False)
        settings = settings_from_dict({"store": {"url": store_url}}, source="test")
        reports: list[DigestReport] = []
        errors: list[BaseException] = []
        start = threading.Barrier(WORKERS)

        def worker() -> None:
            own = Store(store_url, auto_upgrade=False)
            try:
                start.wait()
                reports.append(send_digests(own, settings, NOW, force=True))
            except BaseException as exc:
                errors.append(exc)
            finally:
                own.dispose()

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [type(e).__name__ for e in errors] == []
        assert sum(r.queued for r in reports) == managers
        with store.session() as s:
            keys = s.scalars(select(NudgeRow.idempotency_key)
                             .where(NudgeRow.kind == "digest")).all()
        assert len(keys) == len(set(keys)) == managers
    finally:
        store.dispose()


def test_nudges_due_at_once_go_first(store_url: str) -> None:
    # SQLite sorts NULL first, PostgreSQL last: on both, a nudge with no not_before must not
    # wait behind a full page of dated ones.
    store = Store(store_url, auto_upgrade=True)
    try:
        with store.session() as s:
            dated = []
            for i in range(3):
                p = fx.person(s, f"d{i}@example.com")
                f = fx.flag(s, p, audit=False)
                dated.append(fx.nudge(s, f, p, status="pending", sent_at=None,
                                      not_before=NOW.replace(hour=9)).id)
            p = fx.person(s, "now@example.com")
            f = fx.flag(s, p, audit=False)
            at_once = fx.nudge(s, f, p, status="pending", sent_at=None).id
        settings = settings_from_dict({"store": {"url": store_url}}, source="test")
        sent: list[int] = []
        deliver_due(store, RecordingNotifier(sent, threading.Lock()), settings, now=NOW,
                    limit=1)
        assert sent == [at_once]
        deliver_due(store, RecordingNotifier(sent, threading.Lock()), settings, now=NOW)
        assert sent == [at_once, *dated]
    finally:
        store.dispose()
