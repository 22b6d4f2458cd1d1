"""What each Slack interaction does to the store: connect, disconnect and the nudge buttons.

Kept apart from the Bolt wiring so each rule lives once: a person acts only on their own
flags and accounts, a manager only on their own team's flags, every press is an audit event
and a feedback label for per-rule precision and the classifier's feedback training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor import ownership
from monitor.compliance.erasure import erase_account
from monitor.config import Settings
from monitor.domain import FlagStatus, NudgeStatus, utcnow
from monitor.errors import InputError, NotFoundError
from monitor.guidance.planner import plan_escalation
from monitor.store import audit, repo
from monitor.store.schema import AccountRow, ConsentRow, FeedbackRow, FlagRow, NudgeRow, PersonRow

PLATFORMS = ("bluesky", "mastodon", "rss", "x", "reddit")
ERASED_BODY = "(text erased when the account was disconnected)"

# button -> (verdict recorded as feedback, role)
VERDICTS = {
    "handled": "confirmed",  # the author agreed it needed handling: a true positive
    "fine": "not_a_concern",  # the author explained why it is fine: a false positive
    "ask": "escalated",  # no label yet; compliance's review decides
    "talked": "handled",  # a conversation happened; says nothing about the label
}


@dataclass(slots=True)
class Outcome:
    """What a press did, in words for the person who pressed."""

    changed: bool
    message: str
    flag_id: int | None = None


def actor_of(person: PersonRow) -> str:
    return f"slack:{person.email}"


def normalise_handle(settings: Settings, platform: str, handle: str) -> tuple[str, str]:
    """Validate a platform name and handle typed in Slack; returns the stored form."""
    platform = platform.strip().lower()
    if platform == "twitter":
        platform = "x"
    if platform not in PLATFORMS:
        raise InputError(f"unknown platform '{platform}' (use one of {', '.join(PLATFORMS)})")
    if not getattr(settings.platforms, platform).enabled:
        raise InputError(f"{platform} is not collected by your organisation at the moment")
    h = handle.strip().strip("<>")
    if platform == "rss":
        h = h.split("|", 1)[0]  # Slack sends links as <url|label>
        if not re.fullmatch(r"https?://\S{3,2000}", h):
            raise InputError("an RSS/Atom feed must be an http(s) URL")
        return platform, h
    if platform == "reddit":
        h = re.sub(r"^/?u/", "", h)
    h = h.lstrip("@")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,253}(@[A-Za-z0-9.\-]{1,253})?", h):
        raise InputError(f"'{handle}' does not look like a {platform} handle")
    return platform, h.lower() if platform in ("bluesky", "mastodon") else h


# --- opt-in and opt-out -----------------------------------------------------------------


def connect(
    session: Session, person: PersonRow, platform: str, handle: str, policy_version: str,
    notice_hash: str, now: datetime,
) -> tuple[AccountRow, bool, str | None]:
    """Record the account and the consent (the person is always the owner).

    Returns (account, consent created, code): the code, for an account not yet proven to be
    the person's, goes in its public profile; until then nothing is collected. An earlier,
    never-verified claim by someone else does not block the real owner: it is replaced.
    """
    existing = session.scalar(select(AccountRow).where(AccountRow.platform == platform,
                                                       AccountRow.handle == handle))
    if existing is not None and existing.owner_id != person.id and existing.verified_at is None:
        _replace_claim(session, existing, person, now)
    account, created = repo.add_account_with_consent(
        session, person, platform, handle, policy_version, notice_hash,
        reference=f"slack:{person.slack_id}", actor=actor_of(person), verified_by=None)
    code = None
    if account.verified_at is None:
        code = ownership.issue_code(session, account, actor_of(person))
    return account, created, code


def _replace_claim(session: Session, account: AccountRow, person: PersonRow,
                   now: datetime) -> None:
    """Hand an unverified account to a new claimant: the old claim's consent ends."""
    audit.lock_chain(session)
    consents = session.scalars(select(ConsentRow).where(
        ConsentRow.account_id == account.id, ConsentRow.withdrawn_at.is_(None))).all()
    for c in consents:
        c.withdrawn_at = now
    previous = account.owner_id
    account.owner_id = person.id
    account.verification_code_hash = None
    session.flush()
    audit.record(session, actor_of(person), "account.claim_replaced", "account", account.id,
                 {"platform": account.platform, "previous_owner": previous,
                  "owner": person.id, "consents": [c.id for c in consents]})
    # Posts collected before ownership checks existed belong to the old claim: erase them.
    erase_account(session, account.id, actor_of(person), now=now)
    _scrub_nudges(session, account.id)


def _own_account(session: Session, person: PersonRow, account_id: int) -> AccountRow:
    account = session.get(AccountRow, account_id)
    if account is None or account.owner_id != person.id or \
            repo.active_consent(session, account.id) is None:
        raise NotFoundError("that account is not one of yours")
    return account


def verify(session: Session, person: PersonRow, account_id: int, settings: Settings,
           now: datetime) -> Outcome:
    """Look for the account's code in its public profile; only its owner may ask."""
    # Imported here: the platform client libraries are heavy and only this needs them.
    from monitor.collectors.profile import profile_text

    account = _own_account(session, person, account_id)
    check = ownership.verify(session, account,
                             lambda platform, handle: profile_text(settings, platform, handle),
                             actor_of(person), now)
    return Outcome(check.verified, check.message)


def renew_code(session: Session, person: PersonRow, account_id: int) -> str:
    """A new code for one of the person's unverified accounts (the old one stops working)."""
    account = _own_account(session, person, account_id)
    if account.verified_at is not None:
        raise InputError(f"{account.platform} {account.handle} is already verified")
    code = ownership.issue_code(session, account, actor_of(person))
    return ownership.instructions(account.platform, account.handle, code)


def disconnect(session: Session, person: PersonRow, account_id: int, now: datetime) -> Outcome:
    """Withdraw consent and erase the account's text; only the owner may do it."""
    account = session.get(AccountRow, account_id)
    if account is None or account.owner_id != person.id:
        raise NotFoundError("that account is not one of yours")
    consents = session.scalars(select(ConsentRow).where(
        ConsentRow.account_id == account.id, ConsentRow.withdrawn_at.is_(None))).all()
    for c in consents:
        c.withdrawn_at = now
    session.flush()
    audit.record(session, actor_of(person), "consent.withdrawn", "account", account.id,
                 {"platform": account.platform, "consents": [c.id for c in consents],
                  "via": "slack"})
    result = erase_account(session, account.id, actor_of(person), now=now)
    scrubbed = _scrub_nudges(session, account.id)
    return Outcome(True, f"Disconnected {account.platform} {account.handle}: "
                   f"{result.posts} posts and the text of {result.flags} flags erased"
                   + (f", {scrubbed} messages cleared" if scrubbed else "") + ".")


def _scrub_nudges(session: Session, account_id: int) -> int:
    """Outbox entries quote the post: cancel the pending ones and blank every body."""
    flag_ids = select(FlagRow.id).where(FlagRow.account_id == account_id,
                                        FlagRow.legal_hold.is_(False))
    session.execute(update(NudgeRow).where(
        NudgeRow.flag_id.in_(flag_ids),
        NudgeRow.status.in_([NudgeStatus.PENDING.value, NudgeStatus.SENDING.value]),
    ).values(status=NudgeStatus.CANCELLED.value, last_error="account disconnected")
     .execution_options(synchronize_session=False))
    result: Any = session.execute(update(NudgeRow).where(
        NudgeRow.flag_id.in_(flag_ids), NudgeRow.body != ERASED_BODY,
    ).values(body=ERASED_BODY, blocks=None).execution_options(synchronize_session=False))
    session.expire_all()
    return int(result.rowcount or 0)


# --- buttons ----------------------------------------------------------------------------


def _current(session: Session, flag_id: int) -> FlagRow:
    """The flag a button refers to, following edits of the post to its newest flag."""
    flag = session.get(FlagRow, flag_id)
    if flag is None:
        raise NotFoundError(f"flag #{flag_id} no longer exists")
    if flag.resolution == "superseded_by_edit" and flag.post_id is not None:
        newer = session.scalar(select(FlagRow).where(
            FlagRow.post_id == flag.post_id, FlagRow.id > flag.id)
            .order_by(FlagRow.id.desc()).limit(1))
        if newer is not None:
            return newer
    return flag


def _feedback(session: Session, flag: FlagRow, role: str, person: PersonRow, verdict: str,
              reason: str | None, now: datetime) -> None:
    live = [f for f in flag.findings if not f.shadow] or list(flag.findings)
    sources: list[str | None] = [*sorted({f.source for f in live})] or [None]
    for source in sources:
        cat = next((f.category for f in live if f.source == source), flag.category)
        session.add(FeedbackRow(flag_id=flag.id, source=source, category=cat, role=role,
                                actor=person.email, verdict=verdict, reason=reason,
                                created_at=now))
    session.flush()


def _press_audit(session: Session, person: PersonRow, flag: FlagRow, button: str, role: str,
                 outcome: str) -> None:
    audit.record(session, actor_of(person), "nudge.button", "flag", flag.id,
                 {"button": button, "role": role, "outcome": outcome,
                  "verdict": VERDICTS.get(button)})


def _cancel_manager_notes(session: Session, flag_id: int) -> None:
    session.execute(update(NudgeRow).where(
        NudgeRow.flag_id == flag_id, NudgeRow.role == "manager",
        NudgeRow.status == NudgeStatus.PENDING.value,
    ).values(status=NudgeStatus.CANCELLED.value, last_error="resolved by the author in time")
     .execution_options(synchronize_session=False))


def record_refusal(session: Session, actor: str, flag_id: int, button: str, role: str,
                   why: str) -> None:
    """A refused press is still an audit event (written in its own transaction)."""
    audit.record(session, actor, "nudge.button.refused", "flag" if
                 session.get(FlagRow, flag_id) is not None else None, flag_id,
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
        told = session.scalar(select(NudgeRow.sent_at).where(
            NudgeRow.idempotency_key == f"flag:{flag.id}:author"))
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
        _cancel_manager_notes(session, flag.id)
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
    for acc in session.scalars(select(AccountRow).where(AccountRow.owner_id == person.id)
                               .order_by(AccountRow.id)):
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
        for f in session.scalars(select(FlagRow).where(
            FlagRow.person_id == person.id, FlagRow.status != FlagStatus.SHADOW.value)
            .order_by(FlagRow.id.desc()).limit(20))
    ]
    nudges = [
        {"when": (n.sent_at or n.created_at).date().isoformat(), "subject": n.subject,
         "status": n.status}
        for n in session.scalars(select(NudgeRow).where(NudgeRow.recipient_id == person.id)
                                 .order_by(NudgeRow.id.desc()).limit(20))
    ]
    return accounts, flags, nudges
