"""Turns a new flag into outbox entries: the author first, the manager only after grace."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.config import Settings
from monitor.domain import FlagStatus
from monitor.guidance import templates
from monitor.store import Session
from monitor.store import outbox as queries
from monitor.store.schema import FindingRow, FlagRow, NudgeRow, PersonRow


def _main_finding(flag: FlagRow) -> FindingRow:
    live = [f for f in flag.findings if not f.shadow] or list(flag.findings)
    return max(live, key=lambda f: f.score)


def pseudonym(person: PersonRow | None) -> str:
    """A stable label that does not name the person (for digests and coaching notes)."""
    if person is None:
        return "a team member"
    return f"team member #{person.id}"


def _secret_already_told(session: Session, flag: FlagRow) -> bool:
    """True if the author was already told about exactly these credentials in an earlier
    version of the same post (an edit that keeps the key is not a second leak to nudge about).

    Compared by keyed fingerprint, so the secret itself is never needed."""
    mine = {f.fingerprint for f in flag.findings if f.category == "credentials" and f.fingerprint}
    if flag.post_id is None or not mine:
        return False
    told = queries.told_fingerprints(session, flag.post_id, flag.id)
    return mine <= told


def _already_told(session: Session, flag: FlagRow) -> bool:
    """True if an earlier version of the same post already nudged its author about these
    categories (one nudge per post, however often it is edited or how many findings)."""
    if flag.post_id is None:
        return False
    earlier = queries.told_categories(session, flag.post_id, flag.id)
    told: set[str] = set()
    for cats in earlier:
        told |= set(cats or [])
    return bool(earlier) and set(flag.categories or []) <= told


def plan_nudges(
    session: Session,
    flag: FlagRow,
    author: PersonRow | None,
    settings: Settings,
    now: datetime,
) -> list[NudgeRow]:
    """Write this flag's nudges to the outbox in the caller's transaction (one per recipient).

    The manager's note waits for the grace window and is cancelled at delivery time if the
    author resolved the flag by then.
    """
    if flag.status == FlagStatus.SHADOW.value or author is None:
        return []
    g = settings.guidance
    main = _main_finding(flag)
    urgent = any(c in g.urgent_categories for c in flag.categories)
    quote = (main.evidence or flag.excerpt or "")[:280]
    subject, body = templates.author_message(
        settings, main.category, quote, main.guidance, main.policy_section, flag.platform, urgent
    )
    nudges: list[NudgeRow] = []
    if (urgent and not _secret_already_told(session, flag)) or (
            not urgent and not _already_told(session, flag)):
        nudges.append(NudgeRow(
            flag_id=flag.id,
            recipient_id=author.id,
            recipient_email=author.email,
            role="author",
            kind="urgent" if urgent else "author_nudge",
            subject=subject,
            body=body,
            idempotency_key=f"flag:{flag.id}:author",
            not_before=now,
            created_at=now,
        ))
    if urgent and (settings.slack.security_channel or settings.slack.compliance_channel):
        nudges.append(
            NudgeRow(
                flag_id=flag.id,
                recipient_email=None,
                role="security",
                kind="urgent",
                subject=f"Urgent {main.category} finding",
                body=(f"Flag #{flag.id}: {main.category} ({main.source}) in a {flag.platform} post "
                      f"by {pseudonym(author)}. The author has been told how to rotate it."),
                idempotency_key=f"flag:{flag.id}:security",
                not_before=now,
                created_at=now,
            )
        )
    if author.manager_id is not None:
        manager = session.get(PersonRow, author.manager_id)
        if manager is not None:
            m_subject, m_body = templates.manager_message(
                settings, main.category, main.policy_section, pseudonym(author), None
            )
            nudges.append(
                NudgeRow(
                    flag_id=flag.id,
                    recipient_id=manager.id,
                    recipient_email=manager.email,
                    role="manager",
                    kind="coaching",
                    subject=m_subject,
                    body=m_body,
                    idempotency_key=f"flag:{flag.id}:manager",
                    not_before=now + timedelta(hours=g.grace_hours),
                    created_at=now,
                )
            )
    for n in nudges:
        session.add(n)
    session.flush()
    return nudges


def plan_escalation(
    session: Session, flag: FlagRow, by_role: str, settings: Settings, now: datetime
) -> NudgeRow | None:
    """A note to the compliance channel that someone asked compliance about this flag.

    Without a configured channel nothing is queued: the flag's "escalated" state already
    puts it in compliance's review queue on the dashboard.
    """
    if not settings.slack.compliance_channel:
        return None
    key = f"flag:{flag.id}:escalation"
    existing = queries.nudge_by_key(session, key)
    if existing is not None:
        return existing
    subject, body = templates.escalation_message(settings, flag.id, flag.category, by_role,
                                                 flag.platform)
    note = NudgeRow(flag_id=flag.id, recipient_email=None, role="compliance", kind="escalation",
                    subject=subject, body=body, idempotency_key=key, not_before=now,
                    created_at=now)
    session.add(note)
    session.flush()
    return note
