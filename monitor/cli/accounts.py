"""``socialguide accounts import|list|withdraw``: opted-in accounts managed outside Slack."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.accounts import apply_accounts, check_accounts, read_accounts_csv
from monitor.cli.common import (
    ConfigOption,
    SkipInvalidOption,
    cli_errors,
    err_console,
    open_store,
    out_console,
    report_bad_rows,
    settings_from,
)
from monitor.errors import NotFoundError
from monitor.store import audit, repo
from monitor.store.schema import AccountRow, ConsentRow, PersonRow, utcnow

accounts_app = typer.Typer(help="Manage opted-in social media accounts.", no_args_is_help=True)

@accounts_app.command("import")
def import_accounts(
    file: Annotated[Path, typer.Argument(help="CSV with columns email, platform, handle, "
                                              "consent_reference, policy_version.")],
    skip_invalid: SkipInvalidOption = False,
    config: ConfigOption = None,
) -> None:
    """Record accounts whose owners consented elsewhere (e.g. an HR form)."""
    with cli_errors():
        settings = settings_from(config)
        rows, errors = read_accounts_csv(file)
        store = open_store(settings)
        actor = f"cli:{getpass.getuser()}"
        with store.session() as s:
            ready = check_accounts(s, rows, errors, str(file))
            report_bad_rows(errors, skip_invalid)
            created, existing = apply_accounts(s, ready, settings, actor)
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
        table = Table(title="Accounts", box=None, pad_edge=False)
        for col in ("owner", "handle"):
            table.add_column(col, overflow="fold", ratio=1)
        for col in ("platform", "consent", "policy", "last collected"):
            table.add_column(col, no_wrap=True)
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
                    state = f"active {consent.given_at:%Y-%m-%d}"
                    if acc.verified_at is None:
                        state += ", unverified"  # not collected until the owner proves it
                    policy = consent.policy_version
                else:
                    state = f"withdrawn {consent.withdrawn_at:%Y-%m-%d}"
                    policy = consent.policy_version
                table.add_row(person.email, acc.handle, acc.platform, state, policy,
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
