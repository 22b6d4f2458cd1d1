"""Before a batch is written: which posts are new or edited, and the pipeline's verdicts.

This runs outside the write transaction, so no lock is held while the pipeline works, and
one post the pipeline fails on costs only that post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from monitor.domain import Flag, Post
from monitor.jobs.commit import commit, first_line
from monitor.jobs.gate import Outcome
from monitor.jobs.report import CycleReport
from monitor.pipeline.core import Pipeline
from monitor.store import Session, Store, posts, repo

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """One account's outcome, planned and analysed, ready for the write transaction."""

    outcome: Outcome
    consented: bool = False
    # New posts with their text hash, and known posts whose text changed.
    fresh: list[tuple[Post, str]] = field(default_factory=list)
    edited: list[Post] = field(default_factory=list)
    # Post id -> the pipeline's verdict, or why the post could not be analysed.
    verdicts: dict[str, Flag | str] = field(default_factory=dict)


def what(prepared: list[Prepared]) -> str:
    """The batch as a log line names it."""
    platforms = sorted({p.outcome.account.platform for p in prepared})
    return f"{len(prepared)} account(s) of {', '.join(platforms)}"


def prepare(store: Store, pipeline: Pipeline, outcomes: list[Outcome]) -> list[Prepared]:
    """Plan which posts are new or edited (reads only), then analyse them, post by post safe."""
    prepared = [Prepared(o) for o in outcomes]
    fetched = [p for p in prepared if p.outcome.result is not None]
    if fetched:
        commit(store, lambda s, _r: _plan(s, fetched), CycleReport(), what=what(fetched))
    todo: list[tuple[Prepared, Post]] = [
        (p, post) for p in fetched for post in (*(f for f, _ in p.fresh), *p.edited)]
    verdicts = analyse_isolated(pipeline, [post for _, post in todo])
    for (p, post), verdict in zip(todo, verdicts, strict=True):
        # The pipeline isolates a failing post itself (an error on its flag) and may also
        # raise: both cost only this post, stored with its reason.
        if isinstance(verdict, BaseException):
            reason: str | None = analysis_error(verdict, post)
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


def _plan(s: Session, prepared: list[Prepared]) -> None:
    """Fill each account's new and edited posts; known, unchanged or erased posts are left.

    Known posts are looked up in bulk: in steady state most of a page is unchanged.
    """
    consented = posts.consented_ids(s, [p.outcome.account.id for p in prepared])
    want: dict[str, set[str]] = {}
    for p in prepared:
        p.fresh, p.edited, p.verdicts = [], [], {}
        p.consented = p.outcome.account.id in consented
        if p.consented:
            assert p.outcome.result is not None
            for post in p.outcome.result.posts:
                want.setdefault(post.platform, set()).add(post.id)
    known: dict[tuple[str, str], tuple[str | None, bool]] = {}
    for platform, ids in want.items():
        for pid, state in posts.known_posts(s, platform, list(ids)).items():
            known[(platform, pid)] = state
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


def analyse_isolated(pipeline: Pipeline, batch: list[Post]) -> list[Flag | BaseException]:
    """The pipeline's verdict per post; a post it fails on gets its error, the rest their flags.

    The batch runs whole; only when it fails is it halved until the failing posts stand
    alone, so one bad post costs a few extra batches, not the batch.
    """
    if not batch:
        return []
    try:
        return list(pipeline.analyse(batch))
    except Exception as exc:
        if len(batch) == 1:
            return [exc]
    mid = len(batch) // 2
    return analyse_isolated(pipeline, batch[:mid]) + analyse_isolated(pipeline, batch[mid:])


def analysis_error(exc: BaseException, post: Post) -> str:
    """A one-line reason that never quotes the post's text (it may hold a secret)."""
    text = first_line(exc)
    if post.text and len(post.text) >= 8:
        text = text.replace(post.text, "<post text>")
    return f"{type(exc).__name__}: {text}"[:300]
