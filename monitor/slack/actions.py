"""What each Slack interaction does to the store: the nudge buttons and App Home's data.

Kept apart from the Bolt wiring so each rule lives once: a person acts only on their own
flags and accounts, a manager only on their own team's flags, every press is an audit event
and a feedback label for per-rule precision and the classifier's feedback training.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.accounts.consent import Outcome, actor_of
from monitor.accounts.handles import connectable
from monitor.config import Settings
from monitor.domain import FlagStatus, utcnow
from monitor.errors import InputError, NotFoundError
from monitor.guidance.planner import plan_escalation
from monitor.store import Session, audit, repo
from monitor.store.accounts import accounts_of
from monitor.store.feedback import record_verdicts
from monitor.store.flags import flag_by_id, newer_flag_on_post, own_flags
from monitor.store.outbox import cancel_manager_notes, nudge_sent_at, nudges_to
from monitor.store.schema import FlagRow, PersonRow


def parse_account(settings: Settings, platform: str, handle: str) -> tuple[str, str]:
    """Platform and handle typed in Slack, in their stored spelling (Slack wraps links in <>)."""
    h = handle.strip().strip("<>")
    if platform.strip().lower() == "rss":
        h = h.split("|", 1)[0]  # Slack sends links as <url|label>
    return connectable(settings, platform, h)


# button -> (verdict recorded as feedback, role)
VERDICTS = {
    "handled": "confirmed",  # the author agreed it needed handling: a true positive
    "fine": "not_a_concern",  # the author explained why it is fine: a false positive
    "ask": "escalated",  # no label yet; compliance's review decides
    "talked": "handled",  # a conversation happened; says nothing about the label
}


# --- buttons ----------------------------------------------------------------------------


def _current(session: Session, flag_id: int) -> FlagRow:
    """The flag a button refers to, following edits of the post to its newest flag."""
    flag = flag_by_id(session, flag_id)
    if flag is None:
        raise NotFoundError(f"flag #{flag_id} no longer exists")
    if flag.resolution == "superseded_by_edit" and flag.post_id is not None:
        newer = newer_flag_on_post(session, flag.post_id, flag.id)
        if newer is not None:
            return newer
    return flag


def _feedback(session: Session, flag: FlagRow, role: str, person: PersonRow, verdict: str,
              reason: str | None, now: datetime) -> None:
    live = [f for f in flag.findings if not f.shadow] or list(flag.findings)
    sources: list[str | None] = [*sorted({f.source for f in live})] or [None]
    labelled = [(source, next((f.category for f in live if f.source == source), flag.category))
                for source in sources]
    record_verdicts(session, flag.id, labelled, role, person.email, verdict, reason, now)


def _press_audit(session: Session, person: PersonRow, flag: FlagRow, button: str, role: str,
                 outcome: str) -> None:
    audit.record(session, actor_of(person), "nudge.button", "flag", flag.id,
                 {"button": button, "role": role, "outcome": outcome,
                  "verdict": VERDICTS.get(button)})


def record_refusal(session: Session, actor: str, flag_id: int, button: str, role: str,
                   why: str) -> None:
    """A refused press is still an audit event (written in its own transaction)."""
    audit.record(session, actor, "nudge.button.refused", "flag" if
                 flag_by_id(session, flag_id) is not None else None, flag_id,
                 {"button": button, "role": role, "why": why[:200]})


def author_press(
    session: Session, person: PersonRow, flag_id: int, button: str, settings: Settings,
    now: datetime | None = None, reason: str | None = None,
) -> Outcome:
    """"I've handled it" (handled), "This is fine because..." (fine) or "Ask compliance" (ask)."""
    now = now or utcnow()
    flag = _current(session, flag_id)
    if flag.person_id != person.id:
        raise NotFoundError("this flag is about someone else's post")
    if flag.status not in (FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value):
        _press_audit(session, person, flag, button, "author", "no_change")
        return Outcome(False, f"This one is already {flag.status}; nothing else to do.", flag.id)
    actor = actor_of(person)
    if button == "handled":
        told = nudge_sent_at(session, f"flag:{flag.id}:author")
        start = told or flag.created_at
        in_time = now <= start + timedelta(hours=settings.guidance.grace_hours)
        repo.set_flag_status(session, flag, FlagStatus.RESOLVED.value, actor,
                             resolution="self_resolved" if in_time else "author_resolved",
                             now=now)
        message = "Thanks for taking care of it!"
        if in_time:
            message += " Nobody else will hear about it."
    elif button == "fine":
        reason = (reason or "").strip()[:500]
        if len(reason) < 3:
            raise InputError("please give a short reason")
        repo.set_flag_status(session, flag, FlagStatus.DISMISSED.value, actor,
                             resolution="author_not_a_concern", reason=reason, now=now)
        message = "Thanks for explaining - noted, and it helps us improve the checks."
    elif button == "ask":
        message = _ask_compliance(session, flag, "author", actor, settings, now)
    else:
        raise InputError(f"unknown button '{button}'")
    if flag.status != FlagStatus.OPEN.value:
        cancel_manager_notes(session, flag.id, "resolved by the author in time")
    _feedback(session, flag, "author", person, VERDICTS[button],
              reason if button == "fine" else None, now)
    _press_audit(session, person, flag, button, "author", "changed")
    return Outcome(True, message, flag.id)


def _ask_compliance(
    session: Session, flag: FlagRow, role: str, actor: str, settings: Settings, now: datetime
) -> str:
    """Escalate a flag at its author's or manager's request; the reply to show them."""
    repo.set_flag_status(session, flag, FlagStatus.ESCALATED.value, actor,
                         reason=f"the {role} asked compliance", now=now)
    plan_escalation(session, flag, role, settings, now)
    return "Compliance has been asked and will get back to you."


def manager_press(
    session: Session, person: PersonRow, flag_id: int, button: str, settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """"Talked, all fine" (talked) or "Ask compliance" (ask), only for one's own team."""
    now = now or utcnow()
    flag = _current(session, flag_id)
    if flag.person_id is None or flag.person_id not in repo.team_member_ids(session, person.id):
        raise NotFoundError("this flag is not about someone on your team")
    if flag.status not in (FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value):
        _press_audit(session, person, flag, button, "manager", "no_change")
        return Outcome(False, f"This one is already {flag.status}; nothing else to do.", flag.id)
    actor = actor_of(person)
    if button == "talked":
        repo.set_flag_status(session, flag, FlagStatus.RESOLVED.value, actor,
                             resolution="manager_resolved", now=now)
        message = "Thanks for the conversation - marked as resolved."
    elif button == "ask":
        message = _ask_compliance(session, flag, "manager", actor, settings, now)
    else:
        raise InputError(f"unknown button '{button}'")
    _feedback(session, flag, "manager", person, VERDICTS[button], None, now)
    _press_audit(session, person, flag, button, "manager", "changed")
    return Outcome(True, message, flag.id)


# --- what App Home shows ----------------------------------------------------------------


def home_data(session: Session, person: PersonRow) -> tuple[list[dict], list[dict], list[dict]]:
    """The person's connected accounts, their own flags and the nudges sent to them."""
    accounts = []
    for acc in accounts_of(session, person.id):
        c = repo.active_consent(session, acc.id)
        if c is None:
            continue
        accounts.append({"id": acc.id, "platform": acc.platform, "handle": acc.handle,
                         "given": c.given_at.date().isoformat(),
                         "policy_version": c.policy_version,
                         "verified": acc.verified_at is not None})
    flags = [
        {"id": f.id, "created": f.created_at.date().isoformat(), "platform": f.platform,
         "category": f.category, "status": f.status, "excerpt": f.excerpt}
        for f in own_flags(session, person.id)
    ]
    nudges = [
        {"when": (n.sent_at or n.created_at).date().isoformat(), "subject": n.subject,
         "status": n.status}
        for n in nudges_to(session, person.id)
    ]
    return accounts, flags, nudges
