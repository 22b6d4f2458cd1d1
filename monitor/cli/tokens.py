"""CLI: ``socialguide tokens add|list|revoke`` - integration tokens for ``POST /api/v1/check``."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, cli_errors, err_console, open_store, settings_from

tokens_app = typer.Typer(help="Integration tokens for the draft-check API (POST /api/v1/check).",
                         no_args_is_help=True)


@tokens_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Which integration uses it, e.g. 'buffer-prod'.")],
    config: ConfigOption = None,
) -> None:
    """Make a token for one publishing tool; it is printed once (stdout) and stored hashed."""
    from monitor.store.api_tokens import add_token

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        with store.session() as s:
            row, token = add_token(s, name)
            rid = row.id
    err_console.print(f"token {name} (id {rid}) created; it is shown only now - keep it in the "
                      "integration's secret store:", markup=False)
    typer.echo(token)


@tokens_app.command("list")
def list_(config: ConfigOption = None) -> None:
    """List tokens: name, first characters, created, revoked (never the token itself)."""
    from monitor.store.api_tokens import list_tokens

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        with store.session() as s:
            rows = [(r.id, r.name, r.prefix, r.created_at, r.revoked_at) for r in list_tokens(s)]
    if not rows:
        err_console.print("no tokens yet (socialguide tokens add NAME)")
        return
    typer.echo(f"{'id':>4}  {'name':30}  {'starts':12}  {'created':16}  state")
    for rid, name, prefix, created, revoked in rows:
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "live"
        typer.echo(f"{rid:>4}  {name:30}  {prefix + '…':12}  {created:%Y-%m-%d %H:%M}  {state}")


@tokens_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name (or id).")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token; the API refuses it from the next request on."""
    from monitor.store.api_tokens import revoke_token

    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings)
        with store.session() as s:
            row = revoke_token(s, name)
            label = row.name
    err_console.print(f"token {label} revoked", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``tokens`` to the main app."""
    app.add_typer(tokens_app, name="tokens")
