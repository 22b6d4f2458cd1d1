"""Delivers outbox nudges as Slack DMs (or channel notes) with buttons, never twice.

Idempotency across a crash between posting and marking sent: every message carries Slack
message metadata ``{"event_type": "socialguide_nudge", "event_payload": {"idempotency_key":
...}}``. When a nudge is attempted again (its earlier attempt's outcome is unknown), the
notifier first reads the conversation's recent history and returns the message it finds
with that key instead of posting a second one.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.config import Settings
from monitor.errors import DeliveryError
from monitor.guidance.notifier import ConsoleNotifier, DeliveryPaused, Notifier
from monitor.slack.blocks import nudge_blocks
from monitor.slack.client import retry_after_seconds, web_client
from monitor.store.schema import NudgeRow, PersonRow

log = logging.getLogger(__name__)

EVENT_TYPE = "socialguide_nudge"

# The bot cannot work at all: an operator must act (nudges stay pending, attempts not used).
PAUSE_ERRORS = {
    "invalid_auth": "the bot token is not valid",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot token was revoked (the app was uninstalled or the token rotated)",
    "token_expired": "the bot token expired",
    "account_inactive": "the bot's workspace user is deactivated",
    "missing_scope": "the app lacks a scope (reinstall it from the manifest)",
    "not_allowed_token_type": "the configured token is not a bot token (xoxb-)",
    "team_access_not_granted": "the app is not installed in this workspace",
    "no_permission": "the app is not allowed to do this in this workspace",
}
# This recipient or channel cannot be reached now: retried with a long delay, and
# dead-lettered (still in the outbox, visible to compliance) after guidance.max_attempts.
RECIPIENT_ERRORS = {
    "users_not_found": "no Slack user has this email (set people.slack_id or fix the email)",
    "user_not_found": "the Slack user does not exist (check people.slack_id)",
    "user_disabled": "the Slack user is deactivated",
    "channel_not_found": "the channel does not exist or the bot is not in it",
    "is_archived": "the channel is archived",
    "not_in_channel": "the bot is not a member of the channel (invite it)",
    "cannot_dm_bot": "the recipient is a bot",
}
RECIPIENT_RETRY_SECONDS = 3600.0
PAUSE_RETRY_SECONDS = 900.0
# The request itself is wrong: a retry cannot help.
PERMANENT_ERRORS = {"invalid_blocks", "msg_too_long", "invalid_arguments", "no_text",
                    "invalid_metadata_format", "too_many_attachments"}


def map_slack_error(exc: SlackApiError, what: str) -> DeliveryError:
    """Translate a Slack API error into the outbox's vocabulary (never includes a secret)."""
    resp = exc.response
    code = str(resp.get("error") or f"http_{resp.status_code}") if resp is not None else "unknown"
    status = getattr(resp, "status_code", None)
    if status == 429 or code == "ratelimited":
        wait = retry_after_seconds(dict(resp.headers or {})) if resp is not None else None
        return DeliveryError(f"Slack rate limit on {what}; retry after {wait or 'a while'} s",
                             retry_after=wait or 60.0)
    if code in PAUSE_ERRORS:
        return DeliveryPaused(f"Slack refused {what}: {code} - {PAUSE_ERRORS[code]}; "
                              "fix the app or its token, nudges wait in the outbox",
                              retry_after=PAUSE_RETRY_SECONDS)
    if code in RECIPIENT_ERRORS:
        return DeliveryError(f"Slack refused {what}: {code} - {RECIPIENT_ERRORS[code]}",
                             retry_after=RECIPIENT_RETRY_SECONDS)
    if code in PERMANENT_ERRORS:
        return DeliveryError(f"Slack refused {what}: {code}", permanent=True)
    return DeliveryError(f"Slack error on {what}: {code} (HTTP {status})")


class SlackNotifier:
    """Implements :class:`monitor.guidance.notifier.Notifier` over the Slack Web API."""

    def __init__(self, client: WebClient, settings: Settings):
        self.client = client
        self.settings = settings

    def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
        what = f"nudge {nudge.id} ({nudge.role})"
        try:
            channel = self._channel(nudge, recipient)
            if (nudge.attempts or 0) > 1:
                found = self._already_posted(channel, nudge)
                if found:
                    log.info("nudge already posted; not posting again",
                             extra={"nudge": nudge.id, "ts": found})
                    return f"{channel}:{found}"
            resp = self.client.chat_postMessage(
                channel=channel,
                text=nudge.subject or "A note from socialguide",
                blocks=nudge_blocks(nudge.role, nudge.kind, nudge.flag_id, nudge.body),
                metadata={"event_type": EVENT_TYPE,
                          "event_payload": {"idempotency_key": nudge.idempotency_key,
                                            "nudge_id": nudge.id}},
                unfurl_links=False,
                unfurl_media=False,
            )
            return f"{channel}:{resp['ts']}"
        except SlackApiError as exc:
            raise map_slack_error(exc, what) from None
        except (TimeoutError, URLError, ConnectionError, OSError) as exc:
            raise DeliveryError(f"Slack did not answer {what} ({type(exc).__name__}); "
                                "will retry") from None

    def _channel(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
        s = self.settings.slack
        if recipient is None and nudge.role in ("security", "compliance"):
            first, second = ((s.security_channel, s.compliance_channel) if nudge.role == "security"
                             else (s.compliance_channel, s.security_channel))
            channel = first or second
            if not channel:
                raise DeliveryError(f"no [slack] {nudge.role}_channel is configured",
                                    retry_after=RECIPIENT_RETRY_SECONDS)
            return channel
        user_id = recipient.slack_id if recipient is not None else None
        if not user_id:
            email = recipient.email if recipient is not None else nudge.recipient_email
            if not email:
                raise DeliveryError("the nudge has no recipient", permanent=True)
            user_id = self.client.users_lookupByEmail(email=email)["user"]["id"]
            if recipient is not None:
                recipient.slack_id = user_id  # cached for next time and for the Bolt app
        return str(self.client.conversations_open(users=user_id)["channel"]["id"])

    def _already_posted(self, channel: str, nudge: NudgeRow) -> str | None:
        """The ts of a message already posted for this nudge's idempotency key, if any."""
        # No ``oldest`` bound: the bot's clock and Slack's may differ, and a DM is short.
        cursor = None
        for _ in range(5):  # a DM with the bot is short; five pages is plenty
            resp = self.client.conversations_history(
                channel=channel, limit=200,
                include_all_metadata=True, cursor=cursor,
            )
            messages: list[dict[str, Any]] = resp.get("messages") or []
            for m in messages:
                meta = m.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (meta.get("event_type") == EVENT_TYPE
                        and payload.get("idempotency_key") == nudge.idempotency_key):
                    return str(m["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


def build_notifier(settings: Settings) -> Notifier:
    """SlackNotifier when ``[slack] enabled``, else the console (demo, operators)."""
    if settings.slack.enabled:
        return SlackNotifier(web_client(settings), settings)
    return ConsoleNotifier()
