"""One collection cycle: consented accounts -> collectors -> pipeline -> flag log -> outbox.

Fetching is network-bound, so it runs on a bounded thread pool; everything that writes to
the store runs on the calling thread, in batches, so SQLite sees one writer and the audit
chain stays in order. Each account is isolated: its failure is recorded on the account
(``last_error``, backoff) and the others go on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session

from monitor import metrics
from monitor.collectors import leases
from monitor.collectors.backoff import next_attempt
from monitor.collectors.base import Collector, FetchResult
from monitor.collectors.budget import BudgetSpent, ReadBudget
from monitor.collectors.registry import unavailable
from monitor.config import Settings
from monitor.domain import AccountRef, Flag, Post, utcnow
from monitor.errors import CollectorError, RateLimited, StoreError
from monitor.guidance.planner import plan_nudges
from monitor.masking import SecretKeeping
from monitor.pipeline.core import Pipeline
from monitor.store import Store, repo
from monitor.store.db import is_transient
from monitor.store.schema import AccountRow, ConsentRow, CursorRow, CycleRow, PersonRow, PostRow

log = logging.getLogger(__name__)

WRITE_BATCH = 100
# A write the database refused for a passing reason (locked, connection lost) is tried this
# often, waiting STORE_RETRY_SECONDS times the attempt number in between.
STORE_ATTEMPTS = 3
STORE_RETRY_SECONDS = 1.0
# Platforms whose rate limit applies to the whole app (one 429 stops the platform).
APP_WIDE_LIMITS = ("x", "reddit", "bluesky")


@dataclass
class CycleReport:
    """What a cycle did: collected, analysed, flagged, skipped (and why)."""

    accounts: int = 0
    posts_read: int = 0
    posts_new: int = 0
    posts_edited: int = 0
    posts_deleted: int = 0
    requests: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    shadow_flags: int = 0
    nudges_planned: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # "platform/handle" -> reason
    by_platform: Counter[str] = field(default_factory=Counter)
    # Accounts that failed (a subset of ``skipped``), per platform.
    errors: Counter[str] = field(default_factory=Counter)
    # Platforms with consented accounts but no collector: platform -> why.
    platforms_skipped: dict[str, str] = field(default_factory=dict)
    # Units billed by pay-per-read platforms (X), per platform.
    billed_reads: Counter[str] = field(default_factory=Counter)
    requests_by_platform: Counter[str] = field(default_factory=Counter)
    accounts_by_platform: Counter[str] = field(default_factory=Counter)
    # Posts stored but not analysed ("platform/post id" -> "account handle: why").
    posts_unanalysed: dict[str, str] = field(default_factory=dict)
    # Flags per (platform, category), for the metrics.
    flag_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Accounts whose lease was taken over from a worker process that is gone.
    leases_taken_over: int = 0
    seconds: float = 0.0


def worker_name(settings: Settings) -> str:
    """This process's lease owner name: the configured worker id, else host:pid."""
    return settings.scheduler.worker_id or f"{socket.gethostname()}:{os.getpid()}"


def collect_account(
    store: Store,
    settings: Settings,
    pipeline: Pipeline,
    collector: Collector,
    account: AccountRef,
    report: CycleReport,
    now: datetime,
) -> None:
    """Fetch, store, analyse and plan for one account; errors stay with this account."""
    outcome = _fetch(collector, account)
    _store_outcomes(store, settings, pipeline, [outcome], report, now, owner=None)


@dataclass
class _Outcome:
    account: AccountRef
    result: FetchResult | None = None
    error: CollectorError | None = None
    # Skipped without it being the account's fault (budget, platform-wide rate limit).
    skip: str | None = None


def _fetch(collector: Collector, account: AccountRef) -> _Outcome:
    try:
        return _Outcome(account, result=collector.fetch(account))
    except BudgetSpent as exc:
        return _Outcome(account, skip=str(exc))
    except CollectorError as exc:
        return _Outcome(account, error=exc)
    except Exception as exc:  # a bug in one collector must not stop the cycle
        log.exception("collector crashed",
                      extra={"platform": account.platform, "account": account.handle})
        return _Outcome(account, error=CollectorError(
            f"internal error: {type(exc).__name__}", platform=account.platform,
            account=account.handle))


class _Gate:
    """Stops a platform (or one Mastodon instance / feed host) after a platform-wide 429."""

    def __init__(self) -> None:
        self._until: dict[str, datetime | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(account: AccountRef) -> str:
        if account.platform in APP_WIDE_LIMITS:
            return account.platform
        if account.platform == "mastodon" and "@" in account.handle.lstrip("@"):
            return "mastodon:" + account.handle.lstrip("@").split("@", 1)[1].lower()
        if account.platform == "rss":
            return "rss:" + (urlsplit(account.handle).netloc.lower() or "base")
        return account.platform

    def closed(self, account: AccountRef) -> tuple[bool, datetime | None]:
        with self._lock:
            k = self.key(account)
            return k in self._until, self._until.get(k)

    def close(self, account: AccountRef, until: datetime | None) -> None:
        with self._lock:
            self._until.setdefault(self.key(account), until)


def _guarded_fetch(collector: Collector, account: AccountRef, gate: _Gate) -> _Outcome:
    shut, until = gate.closed(account)
    if shut:
        return _Outcome(account, skip=f"platform rate limited until {until or 'later'}")
    out = _fetch(collector, account)
    if isinstance(out.error, RateLimited):
        gate.close(account, out.error.reset_at)
    return out


def run_cycle(
    store: Store,
    settings: Settings,
    pipeline: Pipeline,
    collectors: dict[str, Collector],
    now: datetime | None = None,
    *,
    platforms: Iterable[str] | None = None,
    workers: int | None = None,
) -> CycleReport:
    """Collect every consented account of every platform that has a collector.

    ``platforms`` limits the cycle (the daemon runs one job per platform). Accounts backing
    off after failures, or leased by another worker, are skipped with the reason.
    """
    now = now or utcnow()
    t0 = time.perf_counter()
    report = CycleReport()
    owner = worker_name(settings)
    wanted = set(platforms) if platforms is not None else None
    _report_unavailable(store, settings, collectors, wanted, report)
    n_workers = workers or settings.scheduler.collect_workers
    # One replay collector may serve several platforms: fetch each platform once.
    for platform, collector in collectors.items():
        if wanted is not None and platform not in wanted:
            continue
        _run_platform(store, settings, pipeline, platform, collector, now, report, owner,
                      n_workers)
    report.seconds = time.perf_counter() - t0
    return report


def _report_unavailable(store: Store, settings: Settings, collectors: dict[str, Collector],
                        wanted: set[str] | None, report: CycleReport) -> None:
    reasons = unavailable(settings)
    with store.session() as s:
        for platform, reason in reasons.items():
            if platform in collectors or (wanted is not None and platform not in wanted):
                continue
            n = len(repo.consented_accounts(s, platform))
            if n:
                report.platforms_skipped[platform] = f"{n} account(s) not collected: {reason}"


def _run_platform(store: Store, settings: Settings, pipeline: Pipeline, platform: str,
                  collector: Collector, now: datetime, report: CycleReport, owner: str,
                  n_workers: int) -> None:
    started = utcnow()
    t0 = time.perf_counter()
    before = (report.posts_read, sum(report.flags.values()), report.requests)
    errors_before = report.errors[platform]
    unanalysed_before = len(report.posts_unanalysed)
    with store.session() as s:
        # The consent rule lives in this one query: nothing else is ever requested.
        accounts = repo.consented_accounts(s, platform)
    by_id = {a.id: a for a in accounts}
    leases.ensure_cursors(store, by_id)
    claim = leases.claim(store, list(by_id), owner, now)
    if claim.taken_over:
        report.leases_taken_over += len(claim.taken_over)
    for aid, until in claim.backing_off.items():
        a = by_id[aid]
        report.skipped[f"{platform}/{a.handle}"] = f"backing off after errors until {until:%Y-%m-%d %H:%M} UTC"
    for aid, other in claim.leased_elsewhere.items():
        a = by_id[aid]
        report.skipped[f"{platform}/{a.handle}"] = f"being collected by another worker ({other})"
    budget = None
    if hasattr(collector, "budget") and platform == "x":
        budget = ReadBudget(settings.platforms.x.max_reads_per_cycle)
        collector.budget = budget
    gate = _Gate()
    # The cursors as they are now the leases are ours: another worker may have collected
    # an account between the listing above and the claim, and its cursor moved on.
    with store.session() as s:
        fresh = repo.cursors_of(s, claim.claimed)
    claimed = [replace(by_id[a], cursor=fresh.get(a, by_id[a].cursor)) for a in claim.claimed]
    report.accounts += len(claimed)
    report.accounts_by_platform[platform] += len(claimed)
    # The heartbeat keeps the leases while this process works; if it dies they lapse.
    with leases.Heartbeat(store, owner):
        try:
            _collect_claimed(store, settings, pipeline, platform, collector, claimed, gate,
                             report, now, owner, n_workers)
        except BaseException:
            _give_back(store, claim.claimed, owner)
            raise
    if budget is not None:
        report.billed_reads[platform] += budget.spent
    errors = report.errors[platform] - errors_before
    good = not claimed or errors < len(claimed)
    seconds = time.perf_counter() - t0
    stats: dict[str, int | float] = {
        "accounts": len(claimed),
        "posts": report.posts_read - before[0],
        "flags": sum(report.flags.values()) - before[1],
        "requests": report.requests - before[2],
        "errors": errors,
        "backing_off": len(claim.backing_off),
        "leased_elsewhere": len(claim.leased_elsewhere),
        "leases_taken_over": len(claim.taken_over),
        "posts_unanalysed": len(report.posts_unanalysed) - unanalysed_before,
        "billed_reads": budget.spent if budget is not None else 0,
        "seconds": round(seconds, 3),
    }
    with store.session() as s:
        s.add(CycleRow(platform=platform, worker=owner, started_at=started,
                       finished_at=utcnow(), ok=good, stats=stats))
    metrics.observe_platform(platform, posts=int(stats["posts"]), flags={}, errors=errors,
                             requests=int(stats["requests"]), seconds=seconds, good=good)
    log.info("collected %s: %s", platform, stats, extra={"platform": platform})


def _collect_claimed(store: Store, settings: Settings, pipeline: Pipeline, platform: str,
                     collector: Collector, claimed: list[AccountRef], gate: _Gate,
                     report: CycleReport, now: datetime, owner: str, n_workers: int) -> None:
    """Fetch on the pool, write on this thread in batches of WRITE_BATCH accounts."""
    pending: list[_Outcome] = []
    in_flight: set[Future[_Outcome]] = set()
    max_in_flight = n_workers * 4
    with ThreadPoolExecutor(max_workers=max(1, n_workers),
                            thread_name_prefix=f"collect-{platform}") as pool:
        it = iter(claimed)
        exhausted = False
        while in_flight or not exhausted:
            while not exhausted and len(in_flight) < max_in_flight:
                acc = next(it, None)
                if acc is None:
                    exhausted = True
                    break
                in_flight.add(pool.submit(_guarded_fetch, collector, acc, gate))
            if not in_flight:
                break
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            pending.extend(f.result() for f in done)
            if len(pending) >= WRITE_BATCH:
                _store_outcomes(store, settings, pipeline, pending, report, now, owner)
                pending = []
    if pending:
        _store_outcomes(store, settings, pipeline, pending, report, now, owner)


def _give_back(store: Store, account_ids: list[int], owner: str) -> None:
    """After a failed cycle, free the leases still held so others need not wait for expiry."""
    try:
        with store.session() as s:
            leases.release(s, account_ids, owner)
    except Exception as exc:  # the database itself may be what failed; the leases lapse
        log.warning("could not give collection leases back (they expire in %.0fs): %s",
                    leases.LEASE_SECONDS, _first_line(exc))


def _store_outcomes(store: Store, settings: Settings, pipeline: Pipeline,
                    outcomes: list[_Outcome], report: CycleReport, now: datetime,
                    owner: str | None) -> None:
    """Analyse and write a batch.

    Posts are planned (one read) and analysed before the write transaction opens, so no lock
    is held while the pipeline runs. A write the database refused for a passing reason
    (locked, connection lost) is retried; one that failed on the batch's data is written
    again account by account, so one account's bad data costs only that account.
    """
    prepared = _prepare(store, pipeline, outcomes)
    _write_prepared(store, settings, prepared, report, now, owner)


def _write_prepared(store: Store, settings: Settings, prepared: list[_Prepared],
                    report: CycleReport, now: datetime, owner: str | None) -> None:
    try:
        _commit(store, lambda s, r: _write(s, settings, prepared, r, now, owner), report,
                what=_what(prepared))
    except StoreError:
        raise
    except Exception:
        if len(prepared) == 1:
            o = prepared[0].outcome
            log.exception("storing failed",
                          extra={"platform": o.account.platform, "account": o.account.handle})
            failure = CollectorError("internal error while storing posts",
                                     platform=o.account.platform, account=o.account.handle)
            _commit(store, lambda s, r: _note_failure(s, o.account, failure, r, now, owner),
                    report, what=_what(prepared))
            return
        for p in prepared:
            _write_prepared(store, settings, [p], report, now, owner)


def _what(prepared: list[_Prepared]) -> str:
    platforms = sorted({p.outcome.account.platform for p in prepared})
    return f"{len(prepared)} account(s) of {', '.join(platforms)}"


def _commit(store: Store, work: Callable[[Session, CycleReport], None], report: CycleReport,
            *, what: str) -> None:
    """Run ``work`` in one transaction; retry it while the database is momentarily unavailable.

    ``work`` reports into a scratch report that joins ``report`` only once committed, so a
    retried or failed transaction never counts twice. After the last attempt a
    :class:`StoreError` ends the platform's cycle: nothing of the batch was stored, the
    cursors did not move, and the next cycle collects it again.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        scratch = CycleReport()
        try:
            with store.session() as s:
                work(s, scratch)
        except Exception as exc:
            if not is_transient(exc):
                raise
            reason = _first_line(exc)
            if attempt == STORE_ATTEMPTS:
                raise StoreError(f"could not write {what} to {store.redacted_url} after "
                                 f"{attempt} attempts: {reason}") from exc
            log.warning("store unavailable while writing %s (attempt %s of %s): %s; retrying",
                        what, attempt, STORE_ATTEMPTS, reason)
            time.sleep(STORE_RETRY_SECONDS * attempt)
            continue
        _merge(report, scratch)
        return


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def _merge(into: CycleReport, part: CycleReport) -> None:
    for f in fields(CycleReport):
        mine, theirs = getattr(into, f.name), getattr(part, f.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, dict):
            mine.update(theirs)
        elif f.name != "seconds":
            setattr(into, f.name, mine + theirs)
    for (platform, category), n in part.flag_counts.items():
        metrics.FLAGS.labels(platform, category).inc(n)
    if part.nudges_planned:
        metrics.observe_nudges("planned", part.nudges_planned)


@dataclass
class _Prepared:
    """One account's outcome, planned and analysed, ready for the write transaction."""

    outcome: _Outcome
    consented: bool = False
    # New posts with their text hash, and known posts whose text changed.
    fresh: list[tuple[Post, str]] = field(default_factory=list)
    edited: list[Post] = field(default_factory=list)
    # Post id -> the pipeline's verdict, or why the post could not be analysed.
    verdicts: dict[str, Flag | str] = field(default_factory=dict)


def _prepare(store: Store, pipeline: Pipeline, outcomes: list[_Outcome]) -> list[_Prepared]:
    """Plan which posts are new or edited (reads only), then analyse them, post by post safe."""
    prepared = [_Prepared(o) for o in outcomes]
    fetched = [p for p in prepared if p.outcome.result is not None]
    if fetched:
        _commit(store, lambda s, _r: _plan(s, fetched), CycleReport(),
                what=_what(fetched))
    todo: list[tuple[_Prepared, Post]] = [
        (p, post) for p in fetched for post in (*(f for f, _ in p.fresh), *p.edited)]
    verdicts = _analyse_isolated(pipeline, [post for _, post in todo])
    for (p, post), verdict in zip(todo, verdicts, strict=True):
        # The pipeline isolates a failing post itself (an error on its flag) and may also
        # raise: both cost only this post, stored with its reason.
        if isinstance(verdict, BaseException):
            reason: str | None = _analysis_error(verdict, post)
        else:
            reason = verdict.error[:300] if verdict.error is not None else None
        if reason is not None:
            a = p.outcome.account
            log.warning("post %s/%s of account %s not analysed: %s", post.platform, post.id,
                        a.handle, reason, extra={"platform": a.platform, "account": a.handle})
            p.verdicts[post.id] = reason
        elif not isinstance(verdict, BaseException):
            p.verdicts[post.id] = verdict
    return prepared


def _plan(s: Session, prepared: list[_Prepared]) -> None:
    """Fill each account's new and edited posts; known, unchanged or erased posts are left.

    Known posts are looked up in bulk: in steady state most of a page is unchanged.
    """
    consented = _consented(s, [p.outcome.account.id for p in prepared])
    want: dict[str, set[str]] = {}
    for p in prepared:
        p.fresh, p.edited, p.verdicts = [], [], {}
        p.consented = p.outcome.account.id in consented
        if p.consented:
            assert p.outcome.result is not None
            for post in p.outcome.result.posts:
                want.setdefault(post.platform, set()).add(post.id)
    known: dict[tuple[str, str], tuple[str | None, bool]] = {}
    erased_at: object
    for platform, ids in want.items():
        id_list = list(ids)
        for i in range(0, len(id_list), 500):
            for pid, digest, erased_at in s.execute(
                select(PostRow.post_id, PostRow.content_hash, PostRow.erased_at).where(
                    PostRow.platform == platform, PostRow.post_id.in_(id_list[i : i + 500]))
            ):
                known[(platform, pid)] = (digest, erased_at is not None)
    for p in prepared:
        if not p.consented:
            continue
        assert p.outcome.result is not None
        # A page boundary may repeat a post, and a replayed history may carry a later
        # version of it: keep one post per id, its last (newest) version.
        latest: dict[str, Post] = {}
        for post in p.outcome.result.posts:
            latest[post.id] = post
        for post in latest.values():
            k = (post.platform, post.id)
            digest = repo.text_hash(post.text)
            if k in known:
                old_digest, erased = known[k]
                if not erased and old_digest != digest:
                    p.edited.append(post)
                continue
            known[k] = (digest, False)
            p.fresh.append((post, digest))


def _analyse_isolated(pipeline: Pipeline, posts: list[Post]) -> list[Flag | BaseException]:
    """The pipeline's verdict per post; a post it fails on gets its error, the rest their flags.

    The batch runs whole; only when it fails is it halved until the failing posts stand
    alone, so one bad post costs a few extra batches, not the batch.
    """
    if not posts:
        return []
    try:
        return list(pipeline.analyse(posts))
    except Exception as exc:
        if len(posts) == 1:
            return [exc]
    mid = len(posts) // 2
    return _analyse_isolated(pipeline, posts[:mid]) + _analyse_isolated(pipeline, posts[mid:])


def _analysis_error(exc: BaseException, post: Post) -> str:
    """A one-line reason that never quotes the post's text (it may hold a secret)."""
    text = _first_line(exc)
    if post.text and len(post.text) >= 8:
        text = text.replace(post.text, "<post text>")
    return f"{type(exc).__name__}: {text}"[:300]


def _note_failure(s: Session, account: AccountRef, exc: CollectorError, report: CycleReport,
                  now: datetime, owner: str | None) -> None:
    key = f"{account.platform}/{account.handle}"
    reason = str(exc)
    if isinstance(exc, RateLimited):
        reason = f"{reason}; retry after {exc.reset_at or 'backoff'}"
    report.skipped[key] = reason
    report.errors[account.platform] += 1
    log.warning("collect failed: %s", exc,
                extra={"platform": account.platform, "account": account.handle})
    acc = s.get(AccountRow, account.id)
    if acc is not None:
        acc.last_error = reason[:1000]
    cur = s.get(CursorRow, account.id)
    if cur is None:
        cur = CursorRow(account_id=account.id, failures=0)
        s.add(cur)
    cur.failures = (cur.failures or 0) + 1
    reset = exc.reset_at if isinstance(exc, RateLimited) else None
    cur.next_attempt_at = next_attempt(now, cur.failures, reset)
    if owner is not None and cur.lease_owner == owner:
        cur.lease_owner = None
        cur.lease_until = None
        cur.lease_process = None


def _write(s: Session, settings: Settings, prepared: list[_Prepared], report: CycleReport,
           now: datetime, owner: str | None) -> None:
    # Consent is checked again here, in the transaction that stores: a withdrawal while the
    # batch was fetched or analysed keeps nothing of it.
    consented = _consented(s, [p.outcome.account.id for p in prepared
                               if p.outcome.result is not None and p.consented])
    for p in prepared:
        o = p.outcome
        if o.error is not None:
            _note_failure(s, o.account, o.error, report, now, owner)
        elif o.skip is not None:
            report.skipped[f"{o.account.platform}/{o.account.handle}"] = o.skip
    if owner is not None:
        leases.release(s, [p.outcome.account.id for p in prepared if p.outcome.error is None],
                       owner)
    ok: list[_Prepared] = []
    for p in prepared:
        o = p.outcome
        if o.result is None:
            continue
        if o.account.id not in consented:
            # Consent was withdrawn while we were fetching: keep nothing.
            report.skipped[f"{o.account.platform}/{o.account.handle}"] = (
                "consent withdrawn during the cycle")
        else:
            ok.append(p)
    to_record = _store_posts(s, ok, report)
    if to_record:
        _record(s, settings, to_record, report, now)
    for p in ok:
        res = p.outcome.result
        assert res is not None
        if res.deleted_ids:
            report.posts_deleted += repo.mark_deleted(s, p.outcome.account.platform,
                                                      res.deleted_ids, now)
    outcomes = [p.outcome for p in ok]
    report.posts_deleted += _window_deletions(s, outcomes, now)
    _save_accounts(s, outcomes, now)


def _save_accounts(s: Session, outcomes: list[_Outcome], now: datetime) -> None:
    """Cursors and account state of a batch, in one executemany per table (not per account)."""
    if not outcomes:
        return
    accounts: list[dict[str, object]] = []
    cursors: list[dict[str, object]] = []
    for o in outcomes:
        assert o.result is not None
        res, c = o.result, o.result.cursor
        row: dict[str, object] = {"id": o.account.id, "last_error": None,
                                  "last_collected_at": now}
        if res.platform_user_id:
            row["platform_user_id"] = res.platform_user_id
        accounts.append(row)
        cursors.append({"account_id": o.account.id, "since_id": c.since_id,
                        "newest_id": c.newest_id, "last_uri": c.last_uri, "etag": c.etag,
                        "last_modified": c.last_modified, "failures": 0,
                        "next_attempt_at": None})
    ids = [o.account.id for o in outcomes]
    have = set(s.scalars(select(CursorRow.account_id)
                         .where(CursorRow.account_id.in_(ids))).all())
    missing = [c for c in cursors if c["account_id"] not in have]
    if missing:
        s.execute(insert(CursorRow), missing)
    present = [c for c in cursors if c["account_id"] in have]
    # ORM bulk UPDATE by primary key: one statement per distinct set of columns.
    if present:
        s.execute(update(CursorRow), present)
    s.execute(update(AccountRow), accounts)


def _consented(s: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    has = exists().where(and_(ConsentRow.account_id == AccountRow.id,
                              ConsentRow.withdrawn_at.is_(None)))
    return set(s.scalars(select(AccountRow.id).where(AccountRow.id.in_(ids), has)).all())


def _store_posts(s: Session, prepared: list[_Prepared],
                 report: CycleReport) -> list[tuple[Flag, PostRow | int, int]]:
    """Store new and edited posts; return (verdict, row or new row id, account id) to record.

    A post the pipeline failed on is stored with its ``analysis_error``: it costs only its
    own result, and as a known post it is not analysed again until its text changes.
    """
    out: list[tuple[Flag, PostRow | int, int]] = []
    fresh: list[tuple[Post, str, int, Flag | str]] = []
    for p in prepared:
        o = p.outcome
        assert o.result is not None
        report.requests += o.result.requests
        report.requests_by_platform[o.account.platform] += o.result.requests
        report.posts_read += len(o.result.posts)
        report.by_platform[o.account.platform] += len(o.result.posts)
        for post in p.edited:
            stored = repo.upsert_post(s, post, o.account.id)
            if stored.status != "edited":
                continue
            report.posts_edited += 1
            verdict = p.verdicts[post.id]
            if isinstance(verdict, str):
                stored.row.analysis_error = verdict
                _note_unanalysed(report, o.account, post, verdict)
            else:
                stored.row.analysis_error = None
                out.append((verdict, stored.row, o.account.id))
        fresh.extend((post, digest, o.account.id, p.verdicts[post.id])
                     for post, digest in p.fresh)
    for post, _, aid, verdict in fresh:
        if isinstance(verdict, str):
            _note_unanalysed(report, _account_of(prepared, aid), post, verdict)
    if fresh:
        # One executemany for the batch's new posts; rows are loaded later only for posts
        # that get a flag (few), so no ORM object is built per post.
        stamp = utcnow()
        new_ids = s.scalars(
            insert(PostRow).returning(PostRow.id, sort_by_parameter_order=True),
            [{"platform": p.platform, "post_id": p.id, "account_id": aid, "author": p.author,
              "text": p.text, "url": p.url, "content_hash": digest,
              "created_at": p.created_at, "collected_at": stamp,
              "analysis_error": v if isinstance(v, str) else None}
             for p, digest, aid, v in fresh],
        ).all()
        report.posts_new += len(fresh)
        out.extend((v, pk, aid) for (_, _, aid, v), pk in zip(fresh, new_ids, strict=True)
                   if not isinstance(v, str))
    return out


def _account_of(prepared: list[_Prepared], account_id: int) -> AccountRef:
    return next(p.outcome.account for p in prepared if p.outcome.account.id == account_id)


def _note_unanalysed(report: CycleReport, account: AccountRef, post: Post, reason: str) -> None:
    report.posts_unanalysed[f"{post.platform}/{post.id}"] = f"account {account.handle}: {reason}"


def _record(s: Session, settings: Settings, items: list[tuple[Flag, PostRow | int, int]],
            report: CycleReport, now: datetime) -> None:
    """Record the flags of analysed posts and plan their nudges."""
    keeping = SecretKeeping.from_settings(settings)
    owners: dict[int, tuple[AccountRow, PersonRow | None]] = {}
    # New posts arrive as primary keys: load the rows of those that got findings, at once.
    wanted = [r for f, r, _ in items if isinstance(r, int) and (f.findings or f.shadow_findings)]
    loaded = ({r.id: r for r in s.scalars(select(PostRow).where(PostRow.id.in_(wanted)))}
              if wanted else {})
    for flag, ref, account_id in items:
        if not flag.findings and not flag.shadow_findings:
            continue
        row = loaded[ref] if isinstance(ref, int) else ref
        if account_id not in owners:
            acc = s.get(AccountRow, account_id)
            assert acc is not None
            owners[account_id] = (acc, s.get(PersonRow, acc.owner_id))
        acc, person = owners[account_id]
        frow = repo.record_flag(s, flag, row, acc, person, keeping=keeping)
        if flag.flagged:
            for c in flag.categories:
                report.flags[c] += 1
                report.flag_counts[(row.platform, c)] += 1
            report.nudges_planned += len(plan_nudges(s, frow, person, settings, now))
        else:
            report.shadow_flags += 1


def _window_deletions(s: Session, outcomes: list[_Outcome], now: datetime) -> int:
    """Stored posts inside a complete newest-first listing that the listing no longer shows.

    One query for the whole batch: each account's stored, undeleted posts since the oldest
    window start, then filtered per account.
    """
    windows = {o.account.id: o for o in outcomes
               if o.result is not None and o.result.window_start is not None
               and o.result.window_ids is not None}
    if not windows:
        return 0
    starts = [o.result.window_start for o in windows.values()]  # type: ignore[union-attr]
    stored: dict[int, list[tuple[str, str, datetime | None]]] = {}
    ids = list(windows)
    for i in range(0, len(ids), 500):
        for aid, platform, pid, created in s.execute(
            select(PostRow.account_id, PostRow.platform, PostRow.post_id, PostRow.created_at)
            .where(PostRow.account_id.in_(ids[i : i + 500]),
                   PostRow.created_at >= min(starts),  # type: ignore[type-var]
                   PostRow.deleted_at.is_(None))
        ):
            if aid is not None:
                stored.setdefault(aid, []).append((platform, pid, created))
    n = 0
    for aid, rows in stored.items():
        o = windows[aid]
        res = o.result
        assert res is not None and res.window_start is not None and res.window_ids is not None
        seen = set(res.window_ids)
        gone = [pid for platform, pid, created in rows
                if platform == o.account.platform and created is not None
                and created >= res.window_start and pid not in seen]
        if gone:
            n += repo.mark_deleted(s, o.account.platform, gone, now)
    return n
