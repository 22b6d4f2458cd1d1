"""Accounts whose owners consented outside Slack (an HR form): CSV reading and recording."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.collectors.registry import PLATFORMS
from monitor.config import Settings
from monitor.errors import InputError
from monitor.slack.notice import build_notice, notice_hash
from monitor.store import repo
from monitor.store.schema import AccountRow, PersonRow

COLUMNS = ("email", "platform", "handle", "consent_reference", "policy_version")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE = {
    "x": re.compile(r"^@?[A-Za-z0-9_]{1,15}$"),
    "reddit": re.compile(r"^(/?u/)?[A-Za-z0-9_-]{3,20}$"),
    "bluesky": re.compile(r"^@?[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"),
    "mastodon": re.compile(r"^@?[A-Za-z0-9_]+(@[A-Za-z0-9.-]+(:\d+)?)?$"),
    "rss": re.compile(r"^(https?://\S+|[^\s:]+)$"),
}


@dataclass
class AccountLine:
    line: int
    email: str
    platform: str
    handle: str
    reference: str
    policy_version: str


def read_accounts_csv(path: Path) -> tuple[list[AccountLine], list[InputError]]:
    """Parse and check every row; each problem names its line."""
    rows: list[AccountLine] = []
    errors: list[InputError] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)} (expected {', '.join(COLUMNS)})",
                         path=str(path), line=1)
    seen: dict[tuple[str, str], int] = {}
    for rec in reader:
        n = reader.line_num
        def bad(msg: str, n: int = n) -> None:
            errors.append(InputError(msg, path=str(path), line=n))
        v = {k: (rec.get(k) or "").strip() for k in COLUMNS}
        platform = v["platform"].lower()
        if not _EMAIL.match(v["email"]):
            bad(f"column 'email': not an email address: {v['email']!r}")
            continue
        if platform not in PLATFORMS:
            bad(f"column 'platform': unknown platform {v['platform']!r} "
                f"(expected one of {', '.join(PLATFORMS)})")
            continue
        if not _HANDLE[platform].match(v["handle"]):
            bad(f"column 'handle': {v['handle']!r} is not a {platform} handle")
            continue
        if not v["consent_reference"]:
            bad("column 'consent_reference': empty (where was consent recorded?)")
            continue
        if not v["policy_version"]:
            bad("column 'policy_version': empty")
            continue
        key = (platform, v["handle"].lower())
        if key in seen:
            bad(f"duplicate of line {seen[key]} ({platform} {v['handle']})")
            continue
        seen[key] = n
        rows.append(AccountLine(n, v["email"].lower(), platform, v["handle"],
                                v["consent_reference"], v["policy_version"]))
    return rows, errors


def notice_hash_for(settings: Settings, platform: str, handle: str) -> str:
    """Hash of the transparency notice this organisation shows for such an account."""
    return notice_hash(build_notice(settings, platform, handle))


def check_accounts(
    session: Session, rows: list[AccountLine], errors: list[InputError], path: str
) -> list[tuple[AccountLine, PersonRow]]:
    """Rows whose owner exists and whose account nobody else has connected; others -> errors."""
    ready: list[tuple[AccountLine, PersonRow]] = []
    for row in rows:
        person = repo.person_by_email(session, row.email)
        if person is None:
            errors.append(InputError(f"column 'email': no person {row.email!r}; "
                                     "import people first", path=path, line=row.line))
            continue
        acc = session.scalar(select(AccountRow).where(AccountRow.platform == row.platform,
                                                      AccountRow.handle == row.handle))
        if acc is not None and acc.owner_id != person.id:
            errors.append(InputError(
                f"{row.platform} account {row.handle!r} is connected by someone else",
                path=path, line=row.line))
            continue
        ready.append((row, person))
    return ready


def apply_accounts(
    session: Session, ready: list[tuple[AccountLine, PersonRow]], settings: Settings, actor: str
) -> tuple[int, int]:
    """Record each account's consent; returns (consents recorded, already active).

    The operator checked the HR form, which names the employee and their handle: that
    import is the proof of ownership ("hr_import"), so no profile code is asked for.
    """
    created = existing = 0
    for row, person in ready:
        _, new = repo.add_account_with_consent(
            session, person, row.platform, row.handle, row.policy_version,
            notice_hash_for(settings, row.platform, row.handle), row.reference, actor,
            verified_by="hr_import")
        created += new
        existing += not new
    return created, existing
