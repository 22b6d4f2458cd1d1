"""Proof that a connected account belongs to the employee who connected it.

Connecting in Slack records the account with a short random code (``sg-`` and eight
letters or digits). Nothing is collected until the owner puts that code in the account's
public profile (for a blog: the feed's title, description or any item) and asks us to
check. Only a salted hash of the code is stored; the check hashes each code-shaped word of
the profile and compares, so the code itself is never kept, logged or audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.collectors import registry
from monitor.domain import utcnow
from monitor.store import Session, audit, repo
from monitor.store.schema import AccountRow

PREFIX = "sg-"
# No 0/o, 1/l/i: a code is read off a screen and typed into a profile by hand.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 8
_CODE = re.compile(rf"(?<![a-z0-9]){PREFIX}([a-z0-9]{{{LENGTH}}})(?![a-z0-9])", re.IGNORECASE)
METHOD = "profile_code"

def where_code_goes(platform: str) -> str:
    """Where the code goes, in the words employees see in the platform's own UI."""
    p = registry.platform(platform)
    return p.code_goes_in if p is not None else "the public profile"


def new_code() -> str:
    """A fresh, unguessable code (about 40 bits)."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_hash(account_id: int, code: str) -> str:
    """SHA-256 of the code, salted with the account id so one hash fits one account only."""
    return hashlib.sha256(f"{account_id}:{code.strip().lower()}".encode()).hexdigest()


def issue_code(session: Session, account: AccountRow, actor: str) -> str:
    """Give an unverified account a new code (replacing any earlier one) and return it."""
    code = new_code()
    audit.lock_chain(session)
    account.verification_code_hash = code_hash(account.id, code)
    session.flush()
    audit.record(session, actor, "account.verification_code", "account", account.id,
                 {"platform": account.platform})
    return code


def code_in(text: str, account_id: int, stored_hash: str) -> bool:
    """Whether ``text`` holds the code whose hash is stored (constant-time comparison)."""
    for m in _CODE.finditer(text):
        if hmac.compare_digest(code_hash(account_id, PREFIX + m.group(1)), stored_hash):
            return True
    return False


@dataclass(slots=True)
class Check:
    """The outcome of a verification attempt, in words for the account's owner."""

    verified: bool
    message: str


def verify(session: Session, account: AccountRow, read_profile: Callable[[str, str], str],
           actor: str, now: datetime | None = None) -> Check:
    """Read the account's public profile and mark the account verified if the code is there.

    ``read_profile(platform, handle)`` returns the profile's text (CollectorError when the
    platform cannot be read: the caller turns that into a message).
    """
    where = f"{account.platform} {account.handle}"
    if account.verified_at is not None:
        return Check(True, f"{where} is already verified.")
    if not account.verification_code_hash:
        return Check(False, f"{where} has no code yet: press \"New code\" in the Home tab.")
    text = read_profile(account.platform, account.handle)
    if not code_in(text, account.id, account.verification_code_hash):
        audit.record(session, actor, "account.verification_failed", "account", account.id,
                     {"platform": account.platform})
        return Check(False, (
            f"We could not find your code in the public profile of {where} yet. Put it in "
            f"{where_code_goes(account.platform)}, save, and press Verify "
            "again (the platform may take a minute to show the change). Nothing is collected "
            "until then."))
    repo.mark_verified(session, account, METHOD, actor, now or utcnow())
    return Check(True, f"Verified: {where} is yours. Collection starts with the next cycle; "
                       "you may remove the code from your profile now.")


def instructions(platform: str, handle: str, code: str) -> str:
    """What the employee must do with a new code (shown once; only its hash is kept)."""
    return (f"One more step: prove {platform} {handle} is yours. Put the code {code} in "
            f"{where_code_goes(platform)}, then press Verify in the app's "
            f"Home tab (or type `/socialguide verify {platform} {handle}`). Nothing is "
            "collected before that; you can remove the code afterwards.")
