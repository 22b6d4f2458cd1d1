"""CLI commands for compliance (``web``, ``users add``, ``log verify``, ``log head``, ``report``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import (
    ConfigOption,
    cli_errors,
    err_console,
    open_store,
    out_console,
    settings_from,
)
from monitor.errors import InputError

users_app = typer.Typer(help="Manage dashboard users.", no_args_is_help=True)
log_app = typer.Typer(help="Check and anchor the tamper-evident audit log.", no_args_is_help=True)


def web(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default [web] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default [web] port).")] = None,
) -> None:
    """Serve the compliance dashboard (on 127.0.0.1 unless configured otherwise)."""
    import uvicorn

    from monitor.web import create_app

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        app = create_app(settings, store)
        app.state.draft_checker.warm_up_in_background()  # the first draft check waits less
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    err_console.print(f"dashboard on http://{bind_host}:{bind_port}/ (store {store.redacted_url})")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning", proxy_headers=False)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. an email address.")],
    role: Annotated[str, typer.Option(help="compliance | manager | employee | auditor")],
    person: Annotated[
        str | None,
        typer.Option("--person", help="Email of the person (people table) a manager or "
                     "employee user is."),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(help="Read the password from this environment variable instead of a "
                     "prompt (for scripts)."),
    ] = None,
    sso: Annotated[
        bool,
        typer.Option("--sso", help="Single-sign-on only: no password; the user signs in "
                     "through the configured OIDC provider."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a dashboard user; the password is prompted for (or read from --password-env)."""
    from monitor.compliance.users import add_user

    with cli_errors():
        settings = settings_from(config)
        password: str | None
        if sso:
            if password_env:
                raise InputError("--sso and --password-env exclude each other")
            if not settings.web.oidc_issuer:
                raise InputError("--sso needs [web] oidc_issuer in the config")
            password = None
        elif password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise InputError(f"environment variable {password_env} is not set")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        store = open_store(settings)
        with store.session() as s:
            user = add_user(s, username, role, password, person_email=person)
            uid = user.id
    err_console.print(f"added user {username} ({role}), id {uid}")


@log_app.command("verify")
def log_verify(
    head: Annotated[
        str | None,
        typer.Option("--head", help="A chain head saved earlier (ID:HASH from `log head`): "
                     "fail if it is no longer in the log."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Verify every entry of the audit hash chain and every flag against its last entry."""
    from monitor.store.audit import verify

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        with store.session() as s:
            rep = verify(s, expected_head=head)
    if rep.ok:
        head_text = rep.head.as_text() if rep.head else "empty"
        out_console.print(
            f"ok: {rep.entries} entries, {rep.flags_checked} flags checked; head {head_text}"
        )
        return
    first = rep.first_broken
    err_console.print(f"BROKEN: first broken: {first}")
    for p in rep.problems[1:20]:
        err_console.print(f"  also: {p}")
    if len(rep.problems) > 20:
        err_console.print(f"  ... and {len(rep.problems) - 20} more")
    raise typer.Exit(code=1)


@log_app.command("head")
def log_head(config: ConfigOption = None) -> None:
    """Print the latest chain hash as ID:HASH; keep it elsewhere to prove nothing was removed."""
    from monitor.store.audit import latest_head

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        with store.session() as s:
            head = latest_head(s)
    if head is None:
        err_console.print("the audit log is empty")
        raise typer.Exit(code=1)
    typer.echo(head.as_text())


def report(
    since: Annotated[str, typer.Option(help="Window: e.g. 90d, 12w or 2026-01-31.")] = "90d",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (.csv, .json or .html); "
                     "default: CSV on stdout.", dir_okay=False),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the policy effectiveness report (the same figures as the dashboard)."""
    from monitor.compliance.reports import build_report, parse_since, report_csv, report_json
    from monitor.store.audit import record

    with cli_errors():
        settings = settings_from(config)
        start = parse_since(since)
        suffix = output.suffix.lower() if output else ".csv"
        if suffix not in (".csv", ".json", ".html"):
            raise InputError(f"-o {output}: use a .csv, .json or .html file name")
        store = open_store(settings)
        with store.session() as s:
            rep = build_report(s, settings, start)
            record(s, "cli", "report.export", None, None, {"format": suffix[1:], "since": since})
        if suffix == ".json":
            text = report_json(rep)
        elif suffix == ".html":
            from monitor.web.report_html import render_report_html

            text = render_report_html(rep)
        else:
            text = report_csv(rep)
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {output}: {exc.strerror}") from None
            err_console.print(f"wrote {output} ({rep.flags_total} flags since {start:%Y-%m-%d})")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("web")(web)
    app.command("report")(report)
    app.add_typer(users_app, name="users")
    app.add_typer(log_app, name="log")
