"""Writing an analysed batch: posts, flags and their nudges, deletions, cursors, failures.

Everything that writes runs on the cycle's own thread, so SQLite sees one writer and the
audit chain stays in order.
"""

from __future__ import annotations

import logging
from datetime import datetime

from monitor.collectors.backoff import next_attempt
from monitor.config import Settings
from monitor.domain import AccountRef, Flag, Post
from monitor.errors import CollectorError, RateLimited, StoreError
from monitor.guidance.planner import plan_nudges
from monitor.jobs.commit import commit
from monitor.jobs.gate import Outcome
from monitor.jobs.prepare import Prepared, prepare, what
from monitor.jobs.report import CycleReport
from monitor.masking import SecretKeeping
from monitor.pipeline.core import Pipeline
from monitor.store import Session, Store, leases, posts, repo
from monitor.store.schema import AccountRow, PersonRow, PostRow

log = logging.getLogger(__name__)


def store_outcomes(store: Store, settings: Settings, pipeline: Pipeline,
                   outcomes: list[Outcome], report: CycleReport, now: datetime,
                   owner: str | None) -> None:
    """Analyse and write a batch.

    Posts are planned (one read) and analysed before the write transaction opens, so no lock
    is held while the pipeline runs. A write the database refused for a passing reason
    (locked, connection lost) is retried; one that failed on the batch's data is written
    again account by account, so one account's bad data costs only that account.
    """
    prepared = prepare(store, pipeline, outcomes)
    _write_prepared(store, settings, prepared, report, now, owner)


def _write_prepared(store: Store, settings: Settings, prepared: list[Prepared],
                    report: CycleReport, now: datetime, owner: str | None) -> None:
    try:
        commit(store, lambda s, r: _write(s, settings, prepared, r, now, owner), report,
               what=what(prepared))
    except StoreError:
        raise
    except Exception:
        if len(prepared) == 1:
            o = prepared[0].outcome
            log.exception("storing failed",
                          extra={"platform": o.account.platform, "account": o.account.handle})
            failure = CollectorError("internal error while storing posts",
                                     platform=o.account.platform, account=o.account.handle)
            commit(store, lambda s, r: _note_failure(s, o.account, failure, r, now, owner),
                   report, what=what(prepared))
            return
        for p in prepared:
            _write_prepared(store, settings, [p], report, now, owner)


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
    reset = exc.reset_at if isinstance(exc, RateLimited) else None
    posts.record_failure(s, account.id, reason, owner,
                         lambda failures: next_attempt(now, failures, reset))


def _write(s: Session, settings: Settings, prepared: list[Prepared], report: CycleReport,
           now: datetime, owner: str | None) -> None:
    # Consent is checked again here, in the transaction that stores: a withdrawal while the
    # batch was fetched or analysed keeps nothing of it.
    consented = posts.consented_ids(s, [p.outcome.account.id for p in prepared
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
    ok: list[Prepared] = []
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


def _save_accounts(s: Session, outcomes: list[Outcome], now: datetime) -> None:
    collected: list[posts.Collected] = []
    for o in outcomes:
        assert o.result is not None
        collected.append(posts.Collected(o.account.id, o.result.cursor,
                                         o.result.platform_user_id))
    posts.save_collected(s, collected, now)


def _store_posts(s: Session, prepared: list[Prepared],
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
        new_ids = posts.insert_posts(s, [
            posts.NewPost(post, digest, aid, v if isinstance(v, str) else None)
            for post, digest, aid, v in fresh])
        report.posts_new += len(fresh)
        out.extend((v, pk, aid) for (_, _, aid, v), pk in zip(fresh, new_ids, strict=True)
                   if not isinstance(v, str))
    return out


def _account_of(prepared: list[Prepared], account_id: int) -> AccountRef:
    return next(p.outcome.account for p in prepared if p.outcome.account.id == account_id)


def _note_unanalysed(report: CycleReport, account: AccountRef, post: Post, reason: str) -> None:
    report.posts_unanalysed[f"{post.platform}/{post.id}"] = f"account {account.handle}: {reason}"


def _record(s: Session, settings: Settings, items: list[tuple[Flag, PostRow | int, int]],
            report: CycleReport, now: datetime) -> None:
    """Record the flags of analysed posts and plan their nudges."""
    keeping = SecretKeeping.from_settings(settings)
    owners: dict[int, tuple[AccountRow, PersonRow | None]] = {}
    # New posts arrive as primary keys: load the rows of those that got findings, at once.
    loaded = posts.posts_by_id(s, [r for f, r, _ in items
                                   if isinstance(r, int) and (f.findings or f.shadow_findings)])
    for flag, ref, account_id in items:
        if not flag.findings and not flag.shadow_findings:
            continue
        row = loaded[ref] if isinstance(ref, int) else ref
        if account_id not in owners:
            owners[account_id] = posts.account_and_owner(s, account_id)
        acc, person = owners[account_id]
        frow = repo.record_flag(s, flag, row, acc, person, keeping=keeping)
        if flag.flagged:
            for c in flag.categories:
                report.flags[c] += 1
                report.flag_counts[(row.platform, c)] += 1
            report.nudges_planned += len(plan_nudges(s, frow, person, settings, now))
        else:
            report.shadow_flags += 1


def _window_deletions(s: Session, outcomes: list[Outcome], now: datetime) -> int:
    """Stored posts inside a complete newest-first listing that the listing no longer shows.

    One query for the whole batch: each account's stored, undeleted posts since the oldest
    window start, then filtered per account.
    """
    windows = {o.account.id: o for o in outcomes
               if o.result is not None and o.result.window_start is not None
               and o.result.window_ids is not None}
    if not windows:
        return 0
    since = min(o.result.window_start for o in windows.values()
                if o.result is not None and o.result.window_start is not None)
    stored = posts.undeleted_since(s, list(windows), since)
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
