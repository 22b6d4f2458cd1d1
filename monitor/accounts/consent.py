"""Consent: connecting an account, proving it is one's own, renewing its code, leaving.

Each rule lives once: the person is always the owner, an unverified claim by someone else
gives way to the real owner, and leaving withdraws consent and erases what was kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.accounts import ownership
from monitor.accounts.erasure import erase_account
from monitor.config import Settings
from monitor.errors import InputError, NotFoundError
from monitor.store import Session, audit, repo
from monitor.store import accounts as account_sql
from monitor.store.schema import AccountRow, PersonRow

ERASED_BODY = "(text erased when the account was disconnected)"


@dataclass(slots=True)
class Outcome:
    """What a press did, in words for the person who pressed."""

    changed: bool
    message: str
    flag_id: int | None = None


def actor_of(person: PersonRow) -> str:
    """The audit actor of a person acting through Slack."""
    return f"slack:{person.email}"


def connect(
    session: Session, person: PersonRow, platform: str, handle: str, policy_version: str,
    notice_hash: str, now: datetime,
) -> tuple[AccountRow, bool, str | None]:
    """Record the account and the consent (the person is always the owner).

    Returns (account, consent created, code): the code, for an account not yet proven to be
    the person's, goes in its public profile; until then nothing is collected. An earlier,
    never-verified claim by someone else does not block the real owner: it is replaced.
    """
    existing = account_sql.account_by_handle(session, platform, handle)
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
    consents = account_sql.withdraw_consents(session, account.id, now)
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
    from monitor.collectors.registry import profile_text

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
    consents = account_sql.withdraw_consents(session, account.id, now)
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
    return account_sql.scrub_nudges(session, account_id, ERASED_BODY)
