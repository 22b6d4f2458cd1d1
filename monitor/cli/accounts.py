"""``socialguide accounts import|list|withdraw``: opted-in accounts managed outside Slack."""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.accounts.handles import lookup_spelling
from monitor.cli.common import (
    ConfigOption,
    SkipInvalidOption,
    bad_row_count,
    cli_errors,
    err_console,
    open_store,
    out_console,
    report_bad_rows,
    settings_from,
    store_session,
)
from monitor.domain import utcnow
from monitor.errors import NotFoundError
from monitor.store import Session, audit, repo
from monitor.store import accounts as account_sql

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
                          + (f", {bad_row_count(errors)} bad row(s) skipped" if errors else ""),
                          markup=False)


class Format(StrEnum):
    """Output formats of ``accounts list``."""

    table = "table"
    csv = "csv"
    json = "json"


FIELDS = ("owner", "platform", "handle", "consent", "consent_given_at", "consent_withdrawn_at",
          "policy_version", "verified", "verified_at", "verification_method",
          "last_collected_at", "last_error")


@accounts_app.command("list")
def list_accounts(
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table (for people, fits 80 "
                                        "columns), csv or json (every field, on stdout).")]
    = Format.table,
    config: ConfigOption = None,
) -> None:
    """Show every account: owner, consent state, verification, last collection and last error."""
    with cli_errors(), store_session(config) as (_, s):
        records = account_records(s, platform)
    if fmt is Format.json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt is Format.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in records)
        typer.echo(buf.getvalue(), nl=False)
    else:
        _print_table(records)


def account_records(session: Session, platform: str | None = None) -> list[dict[str, Any]]:
    """One plain record per account (ISO times), in owner, platform, handle order."""
    out: list[dict[str, Any]] = []
    for acc, person in account_sql.accounts_with_owners(session, platform):
        consent = account_sql.latest_consent(session, acc.id)
        if consent is None:
            state = "none"
        else:
            state = "active" if consent.withdrawn_at is None else "withdrawn"
        out.append({
            "owner": person.email, "platform": acc.platform, "handle": acc.handle,
            "consent": state,
            "consent_given_at": _iso(consent.given_at if consent else None),
            "consent_withdrawn_at": _iso(consent.withdrawn_at if consent else None),
            "policy_version": consent.policy_version if consent else None,
            "verified": acc.verified_at is not None,
            "verified_at": _iso(acc.verified_at),
            "verification_method": acc.verification_method,
            "last_collected_at": _iso(acc.last_collected_at),
            "last_error": acc.last_error,
        })
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _print_table(records: list[dict[str, Any]]) -> None:
    """Five columns that fit 80 (dates and methods are in csv/json); errors in full below."""
    if not records:
        err_console.print("no accounts yet (socialguide accounts import FILE)", markup=False)
        return
    # One organisation usually means one mail domain: named once, the owners fit a column.
    domains = {r["owner"].rpartition("@")[2] for r in records}
    common = f"@{domains.pop()}" if len(domains) == 1 else ""
    table = Table(box=None, pad_edge=False, show_edge=False,
                  caption=f"owners: {common} addresses" if common else None,
                  caption_justify="left")
    table.add_column("owner", overflow="fold")
    table.add_column("account", overflow="fold")
    table.add_column("consent", no_wrap=True)
    table.add_column("verified", no_wrap=True)
    table.add_column("collected", no_wrap=True)
    errors: list[str] = []
    for r in records:
        collected = (r["last_collected_at"] or "never")[:10]
        if r["last_error"]:
            collected += " !"
            error = r["last_error"]
            if r["handle"] not in error:  # collector errors name the account themselves
                error = f"{r['platform']} {r['handle']}: {error}"
            errors.append(error)
        owner = r["owner"].removesuffix(common) if common else r["owner"]
        table.add_row(owner, f"{r['platform']} {r['handle']}", r["consent"],
                      "yes" if r["verified"] else "no", collected)
    out_console.print(table, soft_wrap=False)
    # In full, one line each (the terminal wraps them), so they can be copied whole.
    for line in errors:
        out_console.print(f"last error: {line}", markup=False)


@accounts_app.command("withdraw")
def withdraw(
    platform: Annotated[str, typer.Option(help="Platform of the account.")],
    handle: Annotated[str, typer.Option(help="Handle of the account.")],
    config: ConfigOption = None,
) -> None:
    """Withdraw consent: collection stops and the account's collected text is erased."""
    with cli_errors(), store_session(config) as (_, s):
        actor = f"cli:{getpass.getuser()}"
        acc = account_sql.account_by_handle(s, platform, lookup_spelling(platform, handle))
        if acc is None:
            raise NotFoundError(f"no {platform} account {handle!r}")
        consent = repo.active_consent(s, acc.id)
        if consent is None:
            raise NotFoundError(f"{platform} account {handle!r} has no active consent")
        now = utcnow()
        account_sql.withdraw_consents(s, acc.id, now)
        audit.record(s, actor, "consent.withdrawn", "account", acc.id,
                     {"platform": platform, "consent_id": consent.id})
        erased = _erase(s, acc.id, actor)
        err_console.print(f"consent withdrawn for {platform} {handle}; {erased}", markup=False)


def _erase(session: Session, account_id: int, actor: str) -> str:
    from monitor.accounts.erasure import erase_account

    res = erase_account(session, account_id, actor)
    return (f"erased the text of {res.posts} post(s), {res.flags} flag(s) and "
            f"{res.findings} finding(s)"
            + (f"; {res.held_flags} flag(s) on legal hold kept" if res.held_flags else ""))


def register(app: typer.Typer) -> None:
    """Add ``accounts`` to the main app."""
    app.add_typer(accounts_app, name="accounts")
