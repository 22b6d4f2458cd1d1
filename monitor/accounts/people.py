"""Importing the organisation (people, managers, teams) from a CSV an HR system exports."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import InputError
from monitor.store import Session, audit, repo
from monitor.store.schema import PersonRow
from monitor.textfiles import read_text

REQUIRED = ("email", "slack_id", "manager_email", "team", "timezone")
OPTIONAL = ("name",)
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
SLACK_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")


@dataclass
class PersonRecord:
    """One validated CSV row."""

    line: int
    email: str
    name: str | None
    slack_id: str | None
    manager_email: str | None
    team: str | None
    timezone: str
    timezone_defaulted: bool = False


@dataclass
class ImportResult:
    """What an import found: the good records, every problem, and what it changed."""

    records: list[PersonRecord] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # Rows with problems whose e-mail is usable: their manager is still checked, never imported.
    pending: list[PersonRecord] = field(default_factory=list)
    # Lines whose empty time zone was filled with the --default-timezone value.
    defaulted: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def read_people_csv(path: Path, default_timezone: str | None = None) -> ImportResult:
    """Validate every row; each problem becomes an InputError naming the file and line.

    A row with several problems yields one error per problem. An empty time zone is a problem
    unless ``default_timezone`` is given; the rows that got it are listed in ``defaulted``.
    """
    result = ImportResult()
    name = str(path)
    if default_timezone is not None and not _is_zone(default_timezone):
        raise InputError(f"--default-timezone {default_timezone!r} is not an IANA time zone "
                         "(like Europe/Berlin)")
    text = read_text(path)
    if not text.strip():
        raise InputError(f"the file is empty; expected a header line with "
                         f"{', '.join(REQUIRED + OPTIONAL)}", path=name, line=1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", path=name, line=1) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(REQUIRED + OPTIONAL)}", path=name, line=1)
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"unknown column(s) {', '.join(unknown)}", path=name, line=1)
    reader.fieldnames = header
    seen: dict[str, int] = {}
    slack_seen: dict[str, int] = {}
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(InputError(f"not readable as CSV: {exc}", name, reader.line_num))
            break
        line = reader.line_num
        rec, problems = _validate(row, default_timezone)
        if rec is not None:
            if rec.email in seen:
                problems.append(f"duplicate email {rec.email} (first on line {seen[rec.email]})")
            else:
                seen[rec.email] = line
            if rec.slack_id:
                if rec.slack_id in slack_seen:
                    problems.append(f"duplicate slack_id {rec.slack_id} "
                                    f"(first on line {slack_seen[rec.slack_id]})")
                else:
                    slack_seen[rec.slack_id] = line
        result.errors.extend(InputError(p, path=name, line=line) for p in problems)
        if rec is not None:
            rec.line = line
            if problems:
                result.pending.append(rec)
            else:
                if rec.timezone_defaulted:
                    result.defaulted.append(line)
                result.records.append(rec)
    return result


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _validate(row: dict[str, str | None],
              default_timezone: str | None) -> tuple[PersonRecord | None, list[str]]:
    """The row as a record (None when a field is unusable) and every problem found in it."""

    def get(key: str) -> str:
        value = row.get(key)
        return value.strip() if isinstance(value, str) else ""

    problems: list[str] = []
    if None in row:
        problems.append("more fields than columns")
    email = get("email").lower()
    if not email:
        problems.append("email is empty")
    elif not EMAIL_RE.match(email):
        problems.append(f"email {email!r} is not an e-mail address")
    slack_id = get("slack_id") or None
    if slack_id and not SLACK_ID_RE.match(slack_id):
        problems.append(f"slack_id {slack_id!r} is not a Slack user id (like U024BE7LH)")
    manager = get("manager_email").lower() or None
    if manager and not EMAIL_RE.match(manager):
        problems.append(f"manager_email {manager!r} is not an e-mail address")
    elif manager and manager == email:
        problems.append("a person cannot be their own manager")
    tz = get("timezone")
    defaulted = False
    if not tz:
        if default_timezone is None:
            problems.append("timezone is empty (an IANA time zone like Europe/Berlin; "
                            "--default-timezone ZONE fills empty cells)")
        else:
            tz, defaulted = default_timezone, True
    elif not _is_zone(tz):
        problems.append(f"timezone {tz!r} is not an IANA time zone (like Europe/Berlin)")
    # The store's column widths, which PostgreSQL enforces (SQLite would accept anything).
    for key, value, most in (("email", email, 320), ("manager_email", manager or "", 320),
                             ("name", get("name"), 200), ("team", get("team"), 200)):
        if len(value) > most:
            problems.append(f"{key} is longer than {most} characters")
    if not email or not EMAIL_RE.match(email):
        return None, problems
    rec = PersonRecord(0, email, get("name") or None, slack_id, manager, get("team") or None,
                       tz, timezone_defaulted=defaulted)
    return rec, problems


def check_managers(session: Session, result: ImportResult, path: str) -> None:
    """Every manager must be in the file or already known; the chain must not loop."""
    in_file = {r.email: r for r in result.records + result.pending}
    # Rows with other problems are checked too, so that each row's report is complete.
    for rec in sorted(result.records + result.pending, key=lambda r: r.line):
        if rec.manager_email and rec.manager_email not in in_file:
            if repo.person_by_email(session, rec.manager_email) is None:
                result.errors.append(InputError(
                    f"manager_email {rec.manager_email} is neither in this file nor imported before",
                    path, rec.line))
    for rec in result.records:
        seen = {rec.email}
        cur = rec.manager_email
        while cur and cur in in_file:
            if cur in seen:
                result.errors.append(InputError(
                    f"management chain of {rec.email} loops back to itself", path, rec.line))
                break
            seen.add(cur)
            cur = in_file[cur].manager_email
    bad_lines = {e.line for e in result.errors}
    result.records = [r for r in result.records if r.line not in bad_lines]


def apply_people(session: Session, result: ImportResult, actor: str) -> None:
    """Create or update people, then link managers (second pass: managers may come later)."""
    by_email: dict[str, PersonRow] = {}
    for rec in result.records:
        person = repo.person_by_email(session, rec.email)
        if person is None:
            person = PersonRow(email=rec.email)
            session.add(person)
            result.created += 1
        else:
            result.updated += 1
        person.name = rec.name or person.name
        person.slack_id = rec.slack_id
        person.team = rec.team
        person.timezone = rec.timezone
        by_email[rec.email] = person
    session.flush()
    for rec in result.records:
        person = by_email[rec.email]
        if rec.manager_email:
            manager = by_email.get(rec.manager_email) or repo.person_by_email(
                session, rec.manager_email)
            person.manager_id = manager.id if manager else None
        else:
            person.manager_id = None
    session.flush()
    audit.record(session, actor, "people.import", "people", None,
                 {"created": result.created, "updated": result.updated})
