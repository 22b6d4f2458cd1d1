"""``socialguide slack check``: is the Slack app ready to go live? Asked of the Web API itself.

Checks the bot token (``auth.test``), its scopes against the bundled manifest, the Socket Mode
token or signing secret, that the bot is in the configured channels, and which people
socialguide cannot reach (no Slack id and no Slack user with their e-mail). It only reads:
nothing is posted, nothing in the store changes. Tokens are never printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.config import Settings, optional_secret, secret
from monitor.errors import ConfigError
from monitor.slack.client import web_client
from monitor.store import Store
from monitor.store.people import slack_contacts

MANIFEST = Path(__file__).resolve().parent / "manifest.yaml"

_HINTS = {
    "invalid_auth": "the token is not valid: copy the Bot User OAuth Token (xoxb-…) again",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked: reinstall the app and copy the new token",
    "account_inactive": "the app was uninstalled or its workspace is gone: reinstall it",
    "missing_scope": "the token lacks a scope this call needs: see the scopes line",
    "not_allowed_token_type": "this is not an app-level token (xapp-…) with connections:write",
    "channel_not_found": "no such channel, or a private one the bot was not invited to",
}


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One result: ``ok``, ``warn`` (works, but worth knowing) or ``fail`` (fix before going live)."""

    level: str
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{self.level:<4}  {self.what}: {self.detail}"


@dataclass
class SetupReport:
    """Every check's line, in the order they ran."""

    lines: list[CheckLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(line.level == "fail" for line in self.lines)

    def add(self, level: str, what: str, detail: str) -> None:
        self.lines.append(CheckLine(level, what, detail))


def manifest_scopes(path: Path = MANIFEST) -> set[str]:
    """The bot scopes the app manifest asks for."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return set(data["oauth_config"]["scopes"]["bot"])


def check_slack(settings: Settings, store: Store) -> SetupReport:
    """Run every check; a failed sign-in stops the checks that need it."""
    report = SetupReport()
    slack = settings.slack
    if not slack.enabled:
        report.add("warn", "[slack] enabled", "false: nudges go to the console notifier "
                   "until it is true")
    try:
        token = secret(slack.bot_token_env, what="Slack bot token")
    except ConfigError as exc:
        report.add("fail", "bot token", str(exc))
        _people_offline(report, store)
        return report
    client = web_client(settings, token)
    auth = _call(report, "bot token (auth.test)", lambda: client.auth_test())
    if auth is None:
        return report
    report.add("ok", "bot token (auth.test)",
               f"bot user {auth.get('user_id')} in workspace "
               f"{auth.get('team') or auth.get('team_id')} ({slack.bot_token_env})")
    _check_scopes(report, auth.headers)
    _check_connection(report, settings)
    for key in ("compliance_channel", "security_channel"):
        _check_channel(report, client, key, getattr(slack, key))
    _check_people(report, client, store)
    return report


def _call(report: SetupReport, what: str, fn: Any) -> Any:
    """The API answer, or None after adding a fail line that names the Slack error."""
    try:
        return fn()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        report.add("fail", what, f"Slack says {error}" + (f": {_HINTS[error]}"
                                                          if error in _HINTS else ""))
    except OSError as exc:  # connection refused, DNS, timeouts (URLError is an OSError)
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        report.add("fail", what, f"cannot reach the Slack API: {reason}")
    return None


def _check_scopes(report: SetupReport, headers: Any) -> None:
    granted_text = _header(headers, "x-oauth-scopes")
    if granted_text is None:
        report.add("warn", "scopes", "Slack did not say which scopes the token has")
        return
    granted = {s.strip() for s in granted_text.split(",") if s.strip()}
    missing = sorted(manifest_scopes() - granted)
    if missing:
        report.add("fail", "scopes", f"missing {', '.join(missing)}: add them under OAuth & "
                   "Permissions (or recreate the app from `socialguide slack manifest`), then "
                   "reinstall it")
    else:
        report.add("ok", "scopes", f"all {len(manifest_scopes())} scopes of the manifest granted")


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def _check_connection(report: SetupReport, settings: Settings) -> None:
    slack = settings.slack
    if slack.mode == "http":
        if optional_secret(slack.signing_secret_env):
            report.add("ok", "signing secret", f"{slack.signing_secret_env} is set (HTTP mode)")
        else:
            report.add("fail", "signing secret", f"environment variable "
                       f"{slack.signing_secret_env} is not set (HTTP mode needs it)")
        return
    app_token = optional_secret(slack.app_token_env)
    if app_token is None:
        report.add("fail", "app token (Socket Mode)", f"environment variable "
                   f"{slack.app_token_env} is not set (an app-level xapp- token with "
                   "connections:write)")
        return
    app_client = web_client(settings, app_token)
    if _call(report, "app token (Socket Mode)",
             lambda: app_client.apps_connections_open(app_token=app_token)):
        report.add("ok", "app token (Socket Mode)",
                   f"Slack hands out a connection ({slack.app_token_env})")


def _check_channel(report: SetupReport, client: WebClient, key: str, channel: str) -> None:
    what = f"[slack] {key}"
    if not channel:
        report.add("warn", what, "not set: urgent findings and escalations reach no channel")
        return
    info = _call(report, f"{what} {channel}", lambda: client.conversations_info(channel=channel))
    if info is None:
        return
    data = info.get("channel") or {}
    name = f"#{data['name']}" if data.get("name") else channel
    if data.get("is_member"):
        report.add("ok", what, f"the bot is a member of {name} ({channel})")
    else:
        report.add("fail", what, f"the bot is not in {name} ({channel}): "
                   f"/invite @socialguide in that channel")


def _directory(client: WebClient) -> Iterator[dict[str, Any]]:
    """Every workspace member, page by page (users.list, 200 at a time)."""
    cursor = None
    while True:
        page = client.users_list(limit=200, cursor=cursor) if cursor else \
            client.users_list(limit=200)
        yield from page.get("members") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _people_offline(report: SetupReport, store: Store) -> None:
    """What can be told without Slack: who is imported, and who has no Slack id yet (they can
    only be reached once Slack knows their e-mail)."""
    with store.session() as s:
        people = slack_contacts(s)
    if not people:
        report.add("fail", "people", "nobody is imported: `socialguide people import` with "
                   "Slack ids (or e-mails Slack knows)")
        return
    missing = [email for email, slack_id in people if not slack_id]
    for email in missing:
        report.add("warn", "person", f"{email}: no Slack id; reachable only if Slack knows "
                   "this e-mail (checked once the bot token works)")
    report.add("warn" if missing else "ok", "people",
               f"{len(people)} imported, {len(people) - len(missing)} with a Slack id; "
               "the workspace was not asked")


def _check_people(report: SetupReport, client: WebClient, store: Store) -> None:
    with store.session() as s:
        people = slack_contacts(s)
    if not people:
        report.add("fail", "people", "nobody is imported: `socialguide people import` with "
                   "Slack ids (or e-mails Slack knows)")
        return
    members = _call(report, "people (users.list)", lambda: list(_directory(client)))
    if members is None:
        return
    active = {m["id"] for m in members if not m.get("deleted")}
    gone = {m["id"] for m in members if m.get("deleted")}
    by_email = {str((m.get("profile") or {}).get("email", "")).lower(): m["id"]
                for m in members if not m.get("deleted") and (m.get("profile") or {}).get("email")}
    with_id = matched = 0
    for email, slack_id in people:
        if slack_id:
            if slack_id in active:
                with_id += 1
            elif slack_id in gone:
                report.add("fail", "person", f"{email}: Slack user {slack_id} is deactivated")
            else:
                report.add("fail", "person", f"{email}: slack_id {slack_id} is not a member "
                           "of this workspace")
        elif email.lower() in by_email:
            matched += 1
        else:
            report.add("fail", "person", f"{email}: no Slack id and no Slack user with this "
                       "e-mail: import it with slack_id, or fix the e-mail")
    level = "ok" if with_id + matched == len(people) else "warn"
    report.add(level, "people", f"{with_id + matched} of {len(people)} reachable: {with_id} by "
               f"Slack id, {matched} by e-mail (their id is filled in at the first message)")
