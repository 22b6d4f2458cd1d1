"""Accounts whose owners consented outside Slack (an HR form): CSV reading and recording.

Handles are stored in the one spelling Slack stores too (monitor/accounts/handles.py).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.accounts.handles import is_handle, normalise_handle
from monitor.accounts.notice import build_notice, notice_hash
from monitor.collectors.registry import PLATFORMS
from monitor.config import Settings
from monitor.errors import InputError
from monitor.store import Session, repo
from monitor.store import accounts as account_sql
from monitor.store.schema import PersonRow
from monitor.textfiles import read_text

COLUMNS = ("email", "platform", "handle", "consent_reference", "policy_version")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class AccountLine:
    """One valid row of an accounts CSV."""

    line: int
    email: str
    platform: str
    handle: str
    reference: str
    policy_version: str


def read_accounts_csv(path: Path) -> tuple[list[AccountLine], list[InputError]]:
    """Parse and check every row; each problem of each row names its line."""
    rows: list[AccountLine] = []
    errors: list[InputError] = []
    name = str(path)
    text = read_text(path)
    if not text.strip():
        raise InputError(f"the file is empty; expected a header line with {', '.join(COLUMNS)}",
                         path=name, line=1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", path=name, line=1) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)} (expected {', '.join(COLUMNS)})",
                         path=name, line=1)
    reader.fieldnames = header
    seen: dict[tuple[str, str], int] = {}
    records = iter(reader)
    while True:
        try:
            rec = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(InputError(f"not readable as CSV: {exc}", path=name,
                                     line=reader.line_num))
            break
        n = reader.line_num
        problems = _row_problems(rec)
        v = {k: (rec.get(k) or "").strip() for k in COLUMNS}
        platform = v["platform"].lower()
        if not problems:
            v["handle"] = normalise_handle(platform, v["handle"])
        key = (platform, v["handle"].lower())
        if not problems:
            if key in seen:
                problems.append(f"duplicate of line {seen[key]} ({platform} {v['handle']})")
            else:
                seen[key] = n
        errors.extend(InputError(p, path=name, line=n) for p in problems)
        if not problems:
            rows.append(AccountLine(n, v["email"].lower(), platform, v["handle"],
                                    v["consent_reference"], v["policy_version"]))
    return rows, errors


def _row_problems(rec: dict[str | None, str | None]) -> list[str]:
    """Every problem of one row (not only the first)."""
    v = {k: (rec.get(k) or "").strip() for k in COLUMNS}
    problems: list[str] = []
    if None in rec:
        problems.append("more fields than columns")
    platform = v["platform"].lower()
    if not _EMAIL.match(v["email"]):
        problems.append(f"column 'email': not an email address: {v['email']!r}")
    if platform not in PLATFORMS:
        problems.append(f"column 'platform': unknown platform {v['platform']!r} "
                        f"(expected one of {', '.join(PLATFORMS)})")
    elif not is_handle(platform, v["handle"]):
        problems.append(f"column 'handle': {v['handle']!r} is not a {platform} handle")
    if not v["consent_reference"]:
        problems.append("column 'consent_reference': empty (where was consent recorded?)")
    if not v["policy_version"]:
        problems.append("column 'policy_version': empty")
    return problems


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
        acc = account_sql.account_by_handle(session, row.platform, row.handle)
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
