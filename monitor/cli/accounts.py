"""``socialguide accounts import|list|withdraw``: opted-in accounts managed outside Slack."""

from __future__ import annotations

import csv
import getpass
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cli.common import (
    ConfigOption,
    cli_errors,
    err_console,
    open_store,
    out_console,
    settings_from,
)
from monitor.collectors.registry import PLATFORMS
from monitor.config import Settings
from monitor.errors import InputError, NotFoundError
from monitor.store import audit, repo
from monitor.store.schema import AccountRow, ConsentRow, PersonRow, utcnow

accounts_app = typer.Typer(help="Manage opted-in social media accounts.", no_args_is_help=True)

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


def _notice_hash(settings: Settings, platform: str, handle: str) -> str:
    try:
        from monitor.slack.notice import build_notice, notice_hash
    except ImportError:
        return repo.text_hash(f"{settings.policy.url} {settings.policy.version}")
    return notice_hash(build_notice(settings, platform, handle))


@accounts_app.command("import")
def import_accounts(
    file: Annotated[Path, typer.Argument(help="CSV with columns email, platform, handle, "
                                              "consent_reference, policy_version.")],
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows even if some rows are bad.")] = False,
    config: ConfigOption = None,
) -> None:
    """Record accounts whose owners consented elsewhere (e.g. an HR form)."""
    with cli_errors():
        settings = settings_from(config)
        rows, errors = read_accounts_csv(file)
        store = open_store(settings)
        actor = f"cli:{getpass.getuser()}"
        created = existing = 0
        with store.session() as s:
            ready: list[tuple[AccountLine, PersonRow]] = []
            for row in rows:
                person = repo.person_by_email(s, row.email)
                if person is None:
                    errors.append(InputError(f"column 'email': no person {row.email!r}; "
                                             "import people first", path=str(file), line=row.line))
                    continue
                acc = s.scalar(select(AccountRow).where(AccountRow.platform == row.platform,
                                                        AccountRow.handle == row.handle))
                if acc is not None and acc.owner_id != person.id:
                    errors.append(InputError(
                        f"{row.platform} account {row.handle!r} is connected by someone else",
                        path=str(file), line=row.line))
                    continue
                ready.append((row, person))
            for err in sorted(errors, key=lambda e: e.line or 0):
                err_console.print(str(err), markup=False)
            if errors and not skip_invalid:
                err_console.print(f"nothing imported: {len(errors)} bad row(s); fix them or "
                                  "pass --skip-invalid", markup=False)
                raise typer.Exit(code=1)
            for row, person in ready:
                _, new = repo.add_account_with_consent(
                    s, person, row.platform, row.handle, row.policy_version,
                    _notice_hash(settings, row.platform, row.handle), row.reference, actor)
                created += new
                existing += not new
        err_console.print(f"accounts: {created} consent(s) recorded, {existing} already active"
                          + (f", {len(errors)} bad row(s) skipped" if errors else ""),
                          markup=False)


@accounts_app.command("list")
def list_accounts(
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    config: ConfigOption = None,
) -> None:
    """Show every account: owner, consent state, last collection and last error."""
    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        table = Table(title="Accounts")
        for col in ("owner", "platform", "handle", "consent", "policy", "last collected"):
            table.add_column(col)
        table.add_column("last error", overflow="ellipsis", no_wrap=True, max_width=20)
        errors: list[str] = []
        with store.session() as s:
            q = select(AccountRow, PersonRow).join(PersonRow, PersonRow.id == AccountRow.owner_id)
            if platform:
                q = q.where(AccountRow.platform == platform)
            for acc, person in s.execute(q.order_by(PersonRow.email, AccountRow.platform,
                                                    AccountRow.handle)):
                consent = s.scalar(select(ConsentRow).where(ConsentRow.account_id == acc.id)
                                   .order_by(ConsentRow.given_at.desc()).limit(1))
                if consent is None:
                    state, policy = "none", ""
                elif consent.withdrawn_at is None:
                    state = f"active since {consent.given_at:%Y-%m-%d}"
                    policy = consent.policy_version
                else:
                    state = f"withdrawn {consent.withdrawn_at:%Y-%m-%d}"
                    policy = consent.policy_version
                table.add_row(person.email, acc.platform, acc.handle, state, policy,
                              f"{acc.last_collected_at:%Y-%m-%d %H:%M}"
                              if acc.last_collected_at else "never",
                              acc.last_error or "")
                if acc.last_error:
                    errors.append(acc.last_error)
        out_console.print(table)
        # Errors in full below the table: they are often longer than a column.
        for line in errors:
            out_console.print(f"last error: {line}", markup=False)


@accounts_app.command("withdraw")
def withdraw(
    platform: Annotated[str, typer.Option(help="Platform of the account.")],
    handle: Annotated[str, typer.Option(help="Handle of the account.")],
    config: ConfigOption = None,
) -> None:
    """Withdraw consent: collection stops and the account's collected text is erased."""
    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        actor = f"cli:{getpass.getuser()}"
        with store.session() as s:
            acc = s.scalar(select(AccountRow).where(AccountRow.platform == platform,
                                                    AccountRow.handle == handle))
            if acc is None:
                raise NotFoundError(f"no {platform} account {handle!r}")
            consent = repo.active_consent(s, acc.id)
            if consent is None:
                raise NotFoundError(f"{platform} account {handle!r} has no active consent")
            now = utcnow()
            for c in s.scalars(select(ConsentRow).where(ConsentRow.account_id == acc.id,
                                                        ConsentRow.withdrawn_at.is_(None))):
                c.withdrawn_at = now
            audit.record(s, actor, "consent.withdrawn", "account", acc.id,
                         {"platform": platform, "consent_id": consent.id})
            erased = _erase(s, acc.id, actor)
        err_console.print(f"consent withdrawn for {platform} {handle}; {erased}", markup=False)


def _erase(session: Session, account_id: int, actor: str) -> str:
    from monitor.compliance.erasure import erase_account

    res = erase_account(session, account_id, actor)
    return (f"erased the text of {res.posts} post(s), {res.flags} flag(s) and "
            f"{res.findings} finding(s)"
            + (f"; {res.held_flags} flag(s) on legal hold kept" if res.held_flags else ""))


def register(app: typer.Typer) -> None:
    """Add ``accounts`` to the main app."""
    app.add_typer(accounts_app, name="accounts")
