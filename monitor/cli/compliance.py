"""CLI commands for compliance: ``web``, ``users``, ``log verify|head`` and ``report``."""

from __future__ import annotations

import errno
import getpass
import os
import re
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.common import (
    ConfigOption,
    cli_errors,
    err_console,
    open_store,
    opened_store,
    out_console,
    settings_from,
    store_session,
)
from monitor.errors import InputError

# A chain head as `log head` prints it: the entry id and its hex hash (or the bare hash).
HEAD_RE = re.compile(r"^(\d+:)?[0-9a-fA-F]{32,128}$")

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
        bind_host = host or settings.web.host
        bind_port = port or settings.web.port
        # Bind first: a busy port is one line, before the banner and before the app is built.
        sock = listening_socket(bind_host, bind_port)
        store = open_store(settings)
        app = create_app(settings, store)
        app.state.draft_checker.warm_up_in_background()  # the first draft check waits less
    shown = f"[{bind_host}]" if ":" in bind_host else bind_host
    err_console.print(f"dashboard on http://{shown}:{sock.getsockname()[1]}/", markup=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=False))
    server.run(sockets=[sock])


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or an InputError naming the address and why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host}:{port}: unknown address ({exc.strerror})",
                         ) from None
    family, kind, proto, _name, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        hint = (" (another `socialguide web` or other server uses it; choose one with --port "
                "or [web] port)") if exc.errno == errno.EADDRINUSE else ""
        raise InputError(f"cannot listen on {host}:{port}: {why}{hint}") from None
    return sock


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
    from monitor.compliance.users import add_user, check_new_user, check_password

    with cli_errors():
        settings = settings_from(config)
        if sso:
            if password_env:
                raise InputError("--sso and --password-env exclude each other")
            if not settings.web.oidc_issuer:
                raise InputError("--sso needs [web] oidc_issuer in the config")
        store = open_store(settings)
        # Everything that can be refused is refused before anyone types a password.
        with store.session() as s:
            check_new_user(s, username, role, person)
        password = None if sso else _password(password_env)
        if password is not None:
            check_password(password)
        with store.session() as s:
            user = add_user(s, username, role, password, person_email=person)
            uid = user.id
    err_console.print(f"added user {username} ({role}), id {uid}", markup=False)


def _password(password_env: str | None) -> str:
    """The new password: from the named variable (scripts) or typed twice at a prompt."""
    if password_env:
        from_env = os.environ.get(password_env, "")
        if not from_env:
            raise InputError(f"environment variable {password_env} is not set")
        return from_env
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@users_app.command("list")
def users_list(config: ConfigOption = None) -> None:
    """List dashboard users: role, linked person, sign-in method, enabled or disabled."""
    from monitor.compliance.users import list_users

    with cli_errors(), store_session(config) as (_, s):
        rows = [(u.id, u.username, u.role, email or "", "password" if u.password_hash
                 else "sso", "disabled" if u.disabled else "active")
                for u, email in list_users(s)]
    if not rows:
        err_console.print("no users yet (socialguide users add NAME --role ROLE)", markup=False)
        return
    table = Table(box=None, pad_edge=False)
    for col in ("id", "username", "role", "person", "sign-in", "state"):
        table.add_column(col, overflow="fold", no_wrap=col in ("id", "role", "state"),
                         justify="right" if col == "id" else "left")
    for uid, name, role, email, method, state in rows:
        person = "(same)" if email and email.lower() == name.lower() else email
        table.add_row(str(uid), name, role, person, method, state)
    out_console.print(table, soft_wrap=False)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    config: ConfigOption = None,
) -> None:
    """Disable a user: sign-ins are refused and open sessions end at their next request."""
    _set_disabled(username, True, config)


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    config: ConfigOption = None,
) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, config)


def _set_disabled(username: str, disabled: bool, config: Path | None) -> None:
    from monitor.compliance.users import set_disabled

    word = "disabled" if disabled else "enabled"
    with cli_errors(), store_session(config) as (_, s):
        changed = set_disabled(s, username, disabled, actor=f"cli:{getpass.getuser()}")
    err_console.print(f"user {username} {word}" if changed else
                      f"user {username} was already {word}", markup=False)


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    password_env: Annotated[
        str | None,
        typer.Option(help="Read the new password from this environment variable instead of "
                     "a prompt (for scripts)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Set a new password for a user (prompted for, or read from --password-env)."""
    from monitor.compliance.users import check_password, reset_password, user_named

    with cli_errors(), opened_store(config) as (_, store):
        with store.session() as s:
            user_named(s, username)  # an unknown user is refused before the prompt
        password = _password(password_env)
        check_password(password)
        with store.session() as s:
            reset_password(s, username, password, actor=f"cli:{getpass.getuser()}")
    err_console.print(f"password of {username} reset", markup=False)


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
        if head is not None and not HEAD_RE.match(head.strip()):
            raise InputError(f"--head {_clip(head)!r}: malformed head; expected ID:HASH as "
                             "`socialguide log head` prints it (e.g. 42:3fa9…)")
        with store_session(config) as (_, s):
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


def _clip(value: str, most: int = 40) -> str:
    return value if len(value) <= most else value[:most] + "…"


@log_app.command("head")
def log_head(config: ConfigOption = None) -> None:
    """Print the latest chain hash as ID:HASH; keep it elsewhere to prove nothing was removed."""
    from monitor.store.audit import latest_head

    with cli_errors(), store_session(config) as (_, s):
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
        if output is not None and not output.parent.is_dir():
            raise InputError(f"-o {output}: folder {output.parent} does not exist")
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
                raise InputError(f"-o {output}: cannot write: {exc.strerror or exc}") from None
            err_console.print(f"wrote {output} ({rep.flags_total} flags since {start:%Y-%m-%d})")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("web")(web)
    app.command("report")(report)
    app.add_typer(users_app, name="users")
    app.add_typer(log_app, name="log")
