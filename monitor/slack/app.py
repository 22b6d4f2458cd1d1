"""The Bolt app: `/socialguide` command, consent modal, App Home, and the nudge buttons.

Socket Mode by default (an ``xapp-`` token, no public URL); HTTP mode verifies every
request's signature and refuses forged or stale ones with 401 (logged without the body).
"""

from __future__ import annotations

import json
import logging
import shlex
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.accounts import consent, ownership
from monitor.accounts.notice import build_notice, notice_hash
from monitor.collectors.registry import PLATFORMS
from monitor.config import Settings, optional_secret, secret
from monitor.domain import utcnow
from monitor.errors import ConfigError, InputError, NotFoundError, SocialGuideError
from monitor.slack import actions, blocks, check
from monitor.slack.client import web_client
from monitor.store import Session, Store, repo
from monitor.store import accounts as account_sql
from monitor.store.schema import PersonRow

log = logging.getLogger(__name__)
# Bolt copies the root logger's level into its own loggers when an App is built, and at
# DEBUG it logs every response body (quoted posts, ownership codes): give it a base logger
# whose level never goes below INFO.
bolt_log = logging.getLogger("slack_bolt.socialguide")
bolt_log.setLevel(logging.INFO)

HELP = (
    "`/socialguide connect <platform> <handle>` - connect a public account (you will see "
    "what is collected first)\n"
    "`/socialguide verify <platform> <handle>` - check the code in the account's public "
    "profile (proof that it is yours)\n"
    "`/socialguide disconnect <platform> <handle>` - stop and erase what was kept\n"
    "`/socialguide status` - your accounts and open flags\n"
    "`/socialguide check <draft>` - check a draft before you post it (only you see the "
    "answer; nothing is kept)\n"
    "`/socialguide help` - this text\n"
    "Platforms: " + ", ".join(PLATFORMS)
)


class LoggedRequestVerification(RequestVerification):
    """Bolt's signature check, logging refusals as warnings without the body or signature."""

    def _debug_log_error(self, signature: str, timestamp: str, body: Any) -> None:
        log.warning("refused a Slack request with an invalid or stale signature "
                    "(timestamp %s)", str(timestamp)[:20])


def resolve_person(session: Any, client: WebClient, user_id: str) -> PersonRow:
    """The Slack user as a person: by ``people.slack_id``, else by the email Slack shares."""
    person = account_sql.person_by_slack_id(session, user_id)
    if person is not None:
        return person
    try:
        info = client.users_info(user=user_id)
    except SlackApiError as exc:
        raise NotFoundError(f"Slack could not tell us who you are ({exc.response.get('error')})"
                            ) from None
    email = ((info.get("user") or {}).get("profile") or {}).get("email")
    if not email:
        raise NotFoundError("Slack did not share your email address with the app")
    person = repo.person_by_email(session, email)
    if person is None:
        raise NotFoundError("you are not in the people directory yet; please ask your "
                            "compliance or IT contact to add you")
    if person.slack_id and person.slack_id != user_id:
        raise NotFoundError("your directory entry is linked to another Slack user")
    person.slack_id = user_id
    return person


class SocialGuideApp:
    """Holds the store and settings the listeners need, and registers them on a Bolt App."""

    def __init__(self, settings: Settings, store: Store, client: WebClient,
                 signing_secret: str, clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.app = App(
            signing_secret=signing_secret,
            client=client,
            token_verification_enabled=False,
            # Our own check replaces Bolt's (same verifier, no body in the log) and runs
            # before authorization, so a forged request causes no API call at all.
            request_verification_enabled=False,
            before_authorize=LoggedRequestVerification(signing_secret),
            process_before_response=True,
            ignoring_self_events_enabled=True,
            logger=bolt_log,
        )
        self._register()

    # --- wiring ---------------------------------------------------------------------------

    def _register(self) -> None:
        a = self.app
        check.register(self)  # before on_command: it takes "/socialguide check ..."
        a.command("/socialguide")(self.on_command)
        a.view(blocks.CONSENT_VIEW)(self.on_consent)
        a.view(blocks.REASON_VIEW)(self.on_reason)
        a.action(blocks.AUTHOR_HANDLED)(self._button("author", "handled"))
        a.action(blocks.AUTHOR_ASK)(self._button("author", "ask"))
        a.action(blocks.AUTHOR_FINE)(self.on_fine)
        a.action(blocks.MANAGER_TALKED)(self._button("manager", "talked"))
        a.action(blocks.MANAGER_ASK)(self._button("manager", "ask"))
        a.action(blocks.DISCONNECT)(self.on_disconnect_button)
        a.action(blocks.VERIFY)(self.on_verify_button)
        a.action(blocks.NEW_CODE)(self.on_new_code_button)
        a.event("app_home_opened")(self.on_home)
        a.error(self.on_error)

    def on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        log.error("Slack listener failed: %s", type(error).__name__)
        return None

    # --- the slash command ----------------------------------------------------------------

    def on_command(self, ack: Ack, command: dict[str, Any]) -> None:
        try:
            words = shlex.split(command.get("text") or "")
        except ValueError:
            words = (command.get("text") or "").split()
        verb = words[0].lower() if words else "help"
        handler, arity = COMMANDS.get(verb, (None, 0))
        try:
            if handler is None or (arity and len(words) != arity):
                ack(text=HELP)
            else:
                handler(self, ack, command, words)
        except SocialGuideError as exc:
            ack(text=f"Sorry, that did not work: {exc}")

    def _command_connect(self, ack: Ack, command: dict[str, Any], words: list[str]) -> None:
        """Show the transparency notice in a modal; consent is recorded when it is accepted."""
        platform, handle = actions.parse_account(self.settings, words[1], words[2])
        with self.store.session() as s:
            resolve_person(s, self.client, command["user_id"])  # only known people may connect
        notice = build_notice(self.settings, platform, handle)
        meta = {"platform": platform, "handle": handle, "notice_hash": notice_hash(notice),
                "policy_version": self.settings.policy.version}
        self.client.views_open(trigger_id=command["trigger_id"],
                               view=blocks.consent_modal(notice, meta))
        ack()

    def _command_disconnect(self, ack: Ack, command: dict[str, Any], words: list[str]) -> None:
        """Withdraw consent for one of the person's accounts and erase what was kept."""
        user_id = command["user_id"]
        with self.store.session() as s:
            person, account_id = self._named_account(s, user_id, words)
            outcome = consent.disconnect(s, person, account_id, self.clock())
        ack(text=outcome.message)
        self.publish_home(user_id)

    def _command_verify(self, ack: Ack, command: dict[str, Any], words: list[str]) -> None:
        """Look for the ownership code in the named account's public profile."""
        user_id = command["user_id"]
        with self.store.session() as s:
            person, account_id = self._named_account(s, user_id, words)
            outcome = consent.verify(s, person, account_id, self.settings, self.clock())
        ack(text=outcome.message)
        self.publish_home(user_id)

    def _command_status(self, ack: Ack, command: dict[str, Any], words: list[str]) -> None:
        """The person's connected accounts and how many of their flags are open."""
        with self.store.session() as s:
            person = resolve_person(s, self.client, command["user_id"])
            accounts, flags, _ = actions.home_data(s, person)
        lines = [f"- {a['platform']} {a['handle']} (since {a['given']})"
                 + ("" if a["verified"] else " - waiting for verification")
                 for a in accounts]
        open_flags = [f for f in flags if f["status"] in ("open", "acknowledged")]
        ack(text=("Connected accounts:\n" + "\n".join(lines) if lines
                  else "No accounts connected.")
            + f"\nOpen flags on your posts: {len(open_flags)}")

    def _named_account(self, session: Session, user_id: str,
                       words: list[str]) -> tuple[PersonRow, int]:
        """The person and the id of their account named by ``<platform> <handle>``."""
        platform, handle = actions.parse_account(self.settings, words[1], words[2])
        person = resolve_person(session, self.client, user_id)
        account = next((x for x in person.accounts
                        if x.platform == platform and x.handle == handle), None)
        if account is None:
            raise NotFoundError(f"you have no connected {platform} account {handle}")
        return person, account.id

    # --- consent ---------------------------------------------------------------------------

    def on_consent(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        values = (view.get("state") or {}).get("values") or {}
        chosen = ((values.get(blocks.CONSENT_BLOCK) or {}).get("agree") or {}).get(
            "selected_options") or []
        if not any(o.get("value") == "agree" for o in chosen):
            ack(response_action="errors",
                errors={blocks.CONSENT_BLOCK: "Please tick the box to confirm, or cancel."})
            return
        try:
            platform, handle = actions.parse_account(self.settings, meta["platform"],
                                                        meta["handle"])
        except (KeyError, InputError) as exc:
            ack(response_action="errors", errors={blocks.CONSENT_BLOCK: str(exc)[:150]})
            return
        current = notice_hash(build_notice(self.settings, platform, handle))
        if meta.get("notice_hash") != current or meta.get("policy_version") != \
                self.settings.policy.version:
            ack(response_action="errors", errors={
                blocks.CONSENT_BLOCK: "The notice changed while it was open; please run the "
                                      "command again to read the new one."})
            return
        try:
            with self.store.session() as s:
                person = resolve_person(s, self.client, user_id)
                account, created, code = consent.connect(
                    s, person, platform, handle, self.settings.policy.version, current,
                    self.clock())
                account_id = account.id
        except SocialGuideError as exc:
            ack(response_action="errors", errors={blocks.CONSENT_BLOCK: str(exc)[:150]})
            return
        text = (f"Connected {platform} {handle}. You can disconnect it any time from the Home "
                "tab." if created else f"{platform} {handle} was already connected.")
        if code is None:
            ack(response_action="update", view=blocks.done_modal("Connected", text))
            self.publish_home(user_id)
            return
        step = ownership.instructions(platform, handle, code)
        ack(response_action="update", view=blocks.done_modal("Almost done", f"{text}\n\n{step}"))
        # The code is shown here and in a DM (which stays); only its hash is stored.
        self._dm(user_id, step, blocks.verify_blocks(step, account_id))
        self.publish_home(user_id, notice=step)

    # --- buttons on nudges --------------------------------------------------------------

    def _button(self, role: str, button: str) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            self._press(body, role, button, int(action["value"]), None,
                        _message_ref(body))
        return listener

    def on_fine(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        flag_id = int(action["value"])
        channel, ts = _message_ref(body)
        self.client.views_open(trigger_id=body["trigger_id"], view=blocks.reason_modal(
            flag_id, {"channel": channel or "", "ts": ts or ""}))

    def on_reason(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get(blocks.REASON_BLOCK) or {}).get("reason") or {}).get("value") or ""
        if len(reason.strip()) < 3:
            ack(response_action="errors", errors={blocks.REASON_BLOCK: "A few words, please."})
            return
        ack()
        self._press(body, "author", "fine", int(meta["flag_id"]), reason,
                    (meta.get("channel") or None, meta.get("ts") or None))

    def _press(self, body: dict[str, Any], role: str, button: str, flag_id: int,
               reason: str | None, ref: tuple[str | None, str | None]) -> None:
        user_id = body["user"]["id"]
        try:
            with self.store.session() as s:
                person = resolve_person(s, self.client, user_id)
                if role == "author":
                    outcome = actions.author_press(s, person, flag_id, button, self.settings,
                                                   self.clock(), reason=reason)
                else:
                    outcome = actions.manager_press(s, person, flag_id, button, self.settings,
                                                    self.clock())
        except SocialGuideError as exc:
            with self.store.session() as s:
                actions.record_refusal(s, f"slack:{user_id}", flag_id, button, role, str(exc))
            self._tell(user_id, ref[0], f"Sorry, that did not work: {exc}")
            return
        channel, ts = ref
        if channel and ts:
            original = (body.get("message") or {}).get("blocks")
            if original is None:
                original = _message_blocks(self.client, channel, ts)
            try:
                self.client.chat_update(channel=channel, ts=ts, text=outcome.message,
                                        blocks=blocks.answered_blocks(original, outcome.message))
            except SlackApiError as exc:
                log.warning("could not update the nudge message: %s",
                            exc.response.get("error"))
        else:
            self._tell(user_id, None, outcome.message)

    def _dm(self, user_id: str, text: str, message_blocks: list[dict[str, Any]]) -> None:
        try:
            ch = self.client.conversations_open(users=user_id)["channel"]["id"]
            self.client.chat_postMessage(channel=ch, text=text, blocks=message_blocks)
        except SlackApiError as exc:
            log.warning("could not send a DM: %s", exc.response.get("error"))

    def _tell(self, user_id: str, channel: str | None, text: str) -> None:
        try:
            if channel:
                self.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            else:
                ch = self.client.conversations_open(users=user_id)["channel"]["id"]
                self.client.chat_postMessage(channel=ch, text=text)
        except SlackApiError as exc:
            log.warning("could not answer a Slack user: %s", exc.response.get("error"))

    # --- App Home -------------------------------------------------------------------------

    def on_disconnect_button(self, ack: Ack, body: dict[str, Any],
                             action: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            with self.store.session() as s:
                person = resolve_person(s, self.client, user_id)
                outcome = consent.disconnect(s, person, int(action["value"]), self.clock())
            log.info("account disconnected from App Home")
            self.publish_home(user_id, notice=outcome.message)
        except SocialGuideError as exc:
            self.publish_home(user_id, notice=f"Sorry, that did not work: {exc}")

    def on_verify_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._account_button(body, lambda s, person: consent.verify(
            s, person, int(action["value"]), self.settings, self.clock()).message)

    def on_new_code_button(self, ack: Ack, body: dict[str, Any],
                           action: dict[str, Any]) -> None:
        ack()
        self._account_button(body, lambda s, person: consent.renew_code(
            s, person, int(action["value"])))

    def _account_button(self, body: dict[str, Any],
                        act: Callable[[Any, PersonRow], str]) -> None:
        """Run an account button; answer where it was pressed (a DM or App Home)."""
        user_id = body["user"]["id"]
        try:
            with self.store.session() as s:
                message = act(s, resolve_person(s, self.client, user_id))
        except SocialGuideError as exc:
            message = f"Sorry, that did not work: {exc}"
        channel, _ = _message_ref(body)
        if channel:
            self._tell(user_id, channel, message)
        self.publish_home(user_id, notice=message)

    def on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            self.publish_home(event["user"])

    def publish_home(self, user_id: str, notice: str | None = None) -> None:
        try:
            with self.store.session() as s:
                person = resolve_person(s, self.client, user_id)
                accounts, flags, nudges = actions.home_data(s, person)
            view = blocks.home_view(accounts, flags, nudges, HELP)
        except SocialGuideError as exc:
            view = blocks.home_view([], [], [], f"{exc}. {HELP}")
        view["blocks"] = [check.home_button(), *view["blocks"]][:100]
        if notice:
            view["blocks"].insert(0, {"type": "context", "elements": [
                {"type": "mrkdwn", "text": blocks.escape(notice)}]})
        try:
            self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("could not publish App Home: %s", exc.response.get("error"))


def _message_ref(body: dict[str, Any]) -> tuple[str | None, str | None]:
    channel = (body.get("channel") or body.get("container") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id")
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    return channel, ts


def _message_blocks(client: WebClient, channel: str, ts: str) -> list[dict[str, Any]] | None:
    """Blocks of a message we are about to update (needed after a modal, which loses them)."""
    try:
        resp = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    except SlackApiError:
        return None
    msgs = resp.get("messages") or []
    return msgs[0].get("blocks") if msgs else None


def build_app(settings: Settings, store: Store, client: WebClient | None = None,
              clock: Callable[[], datetime] = utcnow) -> SocialGuideApp:
    """The app with secrets read from the env variables the config names."""
    signing = optional_secret(settings.slack.signing_secret_env)
    if settings.slack.mode == "http" and not signing:
        raise ConfigError(f"environment variable {settings.slack.signing_secret_env} (Slack "
                          "signing secret) is not set; HTTP mode cannot verify requests")
    # Socket Mode requests are authenticated by the app-level token, not a signature.
    return SocialGuideApp(settings, store, client or web_client(settings),
                          signing or "unused-in-socket-mode", clock)


def socket_mode_handler(settings: Settings, sg: SocialGuideApp) -> Any:
    """Bolt's Socket Mode adapter (slack_sdk's built-in WebSocket client) for the app.

    The app-level ``xapp-`` token comes from the environment variable the config names; it
    asks the configured Web API (``apps.connections.open``) for the WebSocket URL.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = secret(settings.slack.app_token_env, what="Slack app-level token (xapp-)")
    return SocketModeHandler(sg.app, app_token, web_client=sg.client)


def serve(settings: Settings, store: Store, stop: threading.Event | None = None,
          client: WebClient | None = None) -> None:
    """Run until interrupted (or until ``stop`` is set), in the configured mode."""
    sg = build_app(settings, store, client)
    if settings.slack.mode == "socket":
        handler = socket_mode_handler(settings, sg)
        handler.connect()
        log.info("connected to Slack in Socket Mode")
        try:
            (stop or threading.Event()).wait()
        finally:
            handler.close()
        return
    import uvicorn

    uvicorn.run(http_api(sg), host=settings.slack.http_host, port=settings.slack.http_port,
                log_level="warning")


def http_api(sg: SocialGuideApp) -> Any:
    """The HTTP-mode ASGI app: ``POST /slack/events`` for commands, interactivity and events."""
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    handler = SlackRequestHandler(sg.app)

    async def events(req: Request) -> Any:
        return await handler.handle(req)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


CommandHandler = Callable[[SocialGuideApp, Ack, dict[str, Any], list[str]], None]
# verb -> (handler, number of words the command takes; 0: any)
COMMANDS: dict[str, tuple[CommandHandler, int]] = {
    "connect": (SocialGuideApp._command_connect, 3),
    "disconnect": (SocialGuideApp._command_disconnect, 3),
    "verify": (SocialGuideApp._command_verify, 3),
    "status": (SocialGuideApp._command_status, 0),
}
