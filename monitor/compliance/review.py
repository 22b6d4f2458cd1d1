"""The review workflow: allowed transitions, reasons, bulk actions, legal hold, name reveals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.compliance.queries import get_flag
from monitor.compliance.users import Viewer
from monitor.domain import utcnow
from monitor.errors import InputError, NotFoundError
from monitor.masking import SecretKeeping
from monitor.store import Session
from monitor.store.audit import record
from monitor.store.feedback import record_verdicts
from monitor.store.schema import FlagRow, PostRow

# action -> (new status, statuses it may start from)
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "acknowledge": ("acknowledged", ("open", "escalated", "shadow")),
    "resolve": ("resolved", ("open", "acknowledged", "escalated")),
    "dismiss": ("dismissed", ("open", "acknowledged", "escalated", "shadow")),
    "escalate": ("escalated", ("open", "acknowledged")),
    "reopen": ("open", ("resolved", "dismissed", "acknowledged", "escalated")),
}
NEEDS_REASON = frozenset({"dismiss", "escalate", "reopen"})
# What a reviewer's action says about the findings, for per-rule precision.
VERDICT = {"acknowledge": "confirmed", "resolve": "confirmed", "escalate": "confirmed",
           "dismiss": "not_a_concern"}
MAX_REASON = 2000


@dataclass(slots=True)
class ReviewOutcome:
    """Which flags changed and which were skipped (with why)."""

    changed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def _clean_reason(action: str, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise InputError(f"reason is longer than {MAX_REASON} characters")
    if action in NEEDS_REASON and not reason:
        raise InputError(f"'{action}' needs a reason")
    return reason


def review(
    session: Session,
    viewer: Viewer,
    flag_ids: Sequence[int],
    action: str,
    reason: str | None = None,
) -> ReviewOutcome:
    """Apply one review action to one or many flags; each change is an audit entry."""
    if action not in ACTIONS:
        raise InputError(f"unknown action '{action}' (expected one of {', '.join(ACTIONS)})")
    if not viewer.can_review:
        raise NotFoundError("no such action")
    if not flag_ids:
        raise InputError("select at least one flag")
    if len(flag_ids) > 500:
        raise InputError("at most 500 flags per bulk action")
    reason = _clean_reason(action, reason)
    new_status, allowed_from = ACTIONS[action]
    out = ReviewOutcome()
    now = utcnow()
    for fid in dict.fromkeys(flag_ids):
        try:
            flag = get_flag(session, viewer, fid)
        except NotFoundError:
            out.skipped[fid] = "not found"
            continue
        if flag.status not in allowed_from:
            out.skipped[fid] = f"cannot {action} a flag that is {flag.status}"
            continue
        old = flag.status
        flag.status = new_status
        if new_status in ("resolved", "dismissed"):
            flag.resolution = "reviewer"
            flag.resolved_at = now
            flag.reason = reason
        elif new_status == "open":
            flag.resolution = None
            flag.resolved_at = None
            flag.reason = reason
        elif reason:
            flag.reason = reason
        _feedback(session, viewer, flag, action, reason)
        record(
            session, viewer.username, f"flag.{action}", "flag", flag.id,
            {"from": old, "to": new_status, "reason": reason, "role": viewer.role},
        )
        out.changed.append(flag.id)
    return out


def _feedback(
    session: Session, viewer: Viewer, flag: FlagRow, action: str, reason: str | None
) -> None:
    verdict = VERDICT.get(action)
    if verdict is None:
        return
    # A verdict on the flag labels what could have reached people (its live findings), not
    # a shadow score that happened to sit beside them.
    live = [f for f in flag.findings if not f.shadow] or list(flag.findings)
    sources = dict.fromkeys(f.source for f in live) or [None]
    record_verdicts(session, flag.id, [(source, flag.category) for source in sources],
                    "reviewer", viewer.username, verdict, reason, utcnow())


FINDING_VERDICTS = ("confirmed", "not_a_concern")


def finding_verdict(session: Session, viewer: Viewer, flag_id: int, finding_id: int,
                    verdict: str, reason: str | None) -> None:
    """One finding judged on its own, so a flag with a right and a wrong finding counts one of
    each in the per-rule and per-model precision of the report."""
    if not viewer.can_review:
        raise NotFoundError("no such action")
    if verdict not in FINDING_VERDICTS:
        raise InputError(f"verdict must be one of {', '.join(FINDING_VERDICTS)}, not {verdict!r}")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InputError(f"reason is longer than {MAX_REASON} characters")
    flag = get_flag(session, viewer, flag_id)
    finding = next((f for f in flag.findings if f.id == finding_id
                    and (viewer.sees_everything or not f.shadow)), None)
    if finding is None:  # a shadow finding is not there for a manager to judge
        raise NotFoundError(f"flag {flag_id} has no finding {finding_id}")
    record_verdicts(session, flag.id, [(finding.source, finding.category)], "reviewer",
                    viewer.username, verdict, reason, utcnow())
    record(session, viewer.username, "flag.finding_verdict", "flag", flag.id,
           {"finding": finding.id, "source": finding.source, "verdict": verdict,
            "reason": reason})


def set_legal_hold(
    session: Session, viewer: Viewer, flag_id: int, hold: bool, reason: str | None
) -> FlagRow:
    """Put a flag on legal hold (retention and erasure keep its text) or release it."""
    if viewer.role != "compliance":
        raise NotFoundError(f"flag {flag_id} not found")
    reason = (reason or "").strip()
    if not reason:
        raise InputError("a legal hold change needs a reason")
    if len(reason) > MAX_REASON:
        raise InputError(f"reason is longer than {MAX_REASON} characters")
    flag = get_flag(session, viewer, flag_id)
    flag.legal_hold = hold
    record(session, viewer.username, "flag.legal_hold" if hold else "flag.legal_release",
           "flag", flag.id, {"reason": reason})
    return flag


def reveal(session: Session, viewer: Viewer, flag_id: int, reason: str | None) -> FlagRow:
    """Record why a reviewer needs the author's name; the caller then shows it once."""
    if viewer.role not in ("compliance", "manager"):
        raise NotFoundError(f"flag {flag_id} not found")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InputError("say why you need the name (at least 5 characters)")
    if len(reason) > MAX_REASON:
        raise InputError(f"reason is longer than {MAX_REASON} characters")
    flag = get_flag(session, viewer, flag_id)
    record(session, viewer.username, "flag.reveal", "flag", flag.id,
           {"reason": reason, "person_id": flag.person_id})
    return flag


@dataclass(slots=True)
class RevealedSecret:
    """One credential finding's clear value, shown once to the compliance reviewer who asked."""

    source: str
    masked: str
    values: list[str] | None  # None: not kept (no key configured, and the post text is masked)


def reveal_secret(session: Session, viewer: Viewer, flag_id: int, reason: str | None,
                  keeping: SecretKeeping) -> list[RevealedSecret]:
    """Compliance only: the clear credentials of a flag, with the reason recorded in the audit.

    Values come from the seal (see :class:`SecretKeeping`), or from the stored post text when
    ``[store] mask_credentials`` is off; the audit entry names the findings, never the values.
    """
    if viewer.role != "compliance":
        raise NotFoundError(f"flag {flag_id} not found")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InputError("say why you need to see the secret (at least 5 characters)")
    if len(reason) > MAX_REASON:
        raise InputError(f"reason is longer than {MAX_REASON} characters")
    flag = get_flag(session, viewer, flag_id)
    secrets = [f for f in flag.findings if f.category == "credentials"]
    if not secrets:
        raise InputError("this flag has no credential to reveal")
    post = session.get(PostRow, flag.post_id) if flag.post_id else None
    out: list[RevealedSecret] = []
    for f in secrets:
        values = keeping.unseal(f.sealed)
        if values is None and not keeping.mask and post is not None and post.text:
            values = [post.text[int(a):int(b)] for a, b in (f.spans or [])]
        out.append(RevealedSecret(f.source, f.masked or f.evidence or "", values))
    record(session, viewer.username, "flag.reveal_secret", "flag", flag.id,
           {"reason": reason, "findings": [f.id for f in secrets],
            "revealed": sum(1 for r in out if r.values is not None)})
    return out
