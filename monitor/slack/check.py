"""Checking a draft in Slack: ``/socialguide check``, the Home tab's modal, the message shortcut.

Any employee may check a draft: nothing is collected, so no consent and no directory entry
are needed, and the answer goes only to the person who asked (an ephemeral message or their
own modal). Slack wants an acknowledgement within three seconds: a check that is done within
``[check] slack_answer_within_seconds`` is the acknowledgement; a slower one is acknowledged
with "checking…" and answered when done. Nothing of the draft is logged or stored.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond
from slack_sdk.errors import SlackApiError

from monitor.guidance.draft_check import (
    CheckAnswer,
    CheckFailed,
    DraftChecker,
    DraftError,
    checker_for,
)
from monitor.slack.check_blocks import (
    CHECK_BLOCK,
    CHECK_OPEN,
    CHECK_SHORTCUT,
    CHECK_VIEW,
    USAGE,
    answer_blocks,
    check_modal,
    home_button,
    note_modal,
)

if TYPE_CHECKING:
    from monitor.slack.app import SocialGuideApp

log = logging.getLogger(__name__)
__all__ = ["CHECK_BLOCK", "CHECK_OPEN", "CHECK_SHORTCUT", "CHECK_VIEW", "DraftCheckListeners",
           "home_button", "register", "slack_to_plain"]
# After a slow check, how long to let the acknowledgement reach Slack before the answer.
ACK_GRACE_SECONDS = 0.25

_COMMAND = re.compile(r"\s*check(?:\s+|$)(.*)", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def is_check_command(command: dict[str, Any]) -> bool:
    """Bolt matcher: ``/socialguide check …`` (every other verb goes to the main listener)."""
    return _COMMAND.match(command.get("text") or "") is not None


def slack_to_plain(text: str) -> str:
    """Undo Slack's message formatting (``<mailto:a@b|a@b>``, ``&amp;``) to what was typed."""
    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if label:
            return label
        if target.startswith("mailto:"):
            return target[len("mailto:"):]
        if target.startswith("!"):
            return "@" + target[1:]
        return target

    return _LINK.sub(link, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- the listeners --------------------------------------------------------------------------


Outcome = CheckAnswer | str  # the answer, or a message saying why there is none


class DraftCheckListeners:
    """The three ways to check a draft in Slack, sharing one checker and one thread pool."""

    def __init__(self, sg: SocialGuideApp, checker: DraftChecker | None = None):
        self.sg = sg
        self.checker = checker or checker_for(sg.settings)
        self.wait = sg.settings.check.slack_answer_within_seconds
        workers = sg.settings.check.concurrency + 3
        self._checks = ThreadPoolExecutor(workers, thread_name_prefix="slack-draft-check")
        self._answers = ThreadPoolExecutor(4, thread_name_prefix="slack-draft-answer")

    def register(self) -> None:
        """Add the listeners; the command listener must come before the main one."""
        a = self.sg.app
        a.command("/socialguide", matchers=[is_check_command])(self.on_command)
        a.action(CHECK_OPEN)(self.on_open)
        a.view(CHECK_VIEW)(self.on_submit)
        a.shortcut(CHECK_SHORTCUT)(self.on_shortcut)

    # -- running a check ----------------------------------------------------------------------

    def _run(self, text: str) -> Outcome:
        try:
            return self.checker.check(text, "slack", store=self.sg.store)
        except DraftError as exc:
            return f"{exc}."
        except CheckFailed as exc:
            return f"{exc}. Please try again in a moment."

    def _start(self, text: str) -> tuple[Future[Outcome], Outcome | None]:
        """Start a check; its outcome if it is done within the acknowledgement budget."""
        fut = self._checks.submit(self._run, text)
        try:
            return fut, fut.result(timeout=self.wait)
        except FutureTimeout:
            return fut, None

    def _later(self, fut: Future[Outcome], acked: threading.Event,
               deliver: Callable[[Outcome], object]) -> None:
        """Deliver a slow check's outcome once the acknowledgement has gone out."""
        def run(f: Future[Outcome]) -> None:
            acked.wait(10.0)
            time.sleep(ACK_GRACE_SECONDS)
            try:
                deliver(f.result())
            except SlackApiError as exc:
                log.warning("could not deliver a draft check's answer: %s",
                            exc.response.get("error"))
            except Exception as exc:
                log.error("could not deliver a draft check's answer: %s", type(exc).__name__)

        def schedule(f: Future[Outcome]) -> None:
            try:
                self._answers.submit(run, f)
            except RuntimeError:  # the process is shutting down: nobody is waiting any more
                pass

        fut.add_done_callback(schedule)

    # -- /socialguide check <text> --------------------------------------------------------------

    def on_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        m = _COMMAND.match(command.get("text") or "")
        text = slack_to_plain(m.group(1) if m else "")
        if not text.strip():
            ack(text=USAGE, response_type="ephemeral")
            return
        acked = threading.Event()
        try:
            fut, outcome = self._start(text)
            if outcome is not None:
                ack(**_message(outcome))
                return
            ack(text="Checking your draft… the answer appears here in a moment (only you see "
                     "it).", response_type="ephemeral")
            user, channel = command["user_id"], command.get("channel_id")
            url = command.get("response_url")

            def deliver(result: Outcome) -> None:
                msg = _message(result)
                if url:
                    respond(**msg, replace_original=False)
                elif channel:
                    msg.pop("response_type")
                    self.sg.client.chat_postEphemeral(channel=channel, user=user, **msg)

            self._later(fut, acked, deliver)
        finally:
            acked.set()

    # -- the Home tab's button and its modal ----------------------------------------------------

    def on_open(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        try:
            self.sg.client.views_open(trigger_id=body["trigger_id"], view=check_modal())
        except SlackApiError as exc:
            log.warning("could not open the draft-check modal: %s", exc.response.get("error"))

    def on_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = ((values.get(CHECK_BLOCK) or {}).get("draft") or {}).get("value") or ""
        if not text.strip():
            ack(response_action="errors", errors={CHECK_BLOCK: "Type or paste a draft first."})
            return
        acked = threading.Event()
        try:
            fut, outcome = self._start(text)
            if outcome is not None:
                ack(response_action="update", view=_modal_for(text, outcome))
                return
            ack(response_action="update", view=check_modal(text, pending=True))
            view_id = view.get("id") or (body.get("view") or {}).get("id")
            self._later(fut, acked, lambda result: self.sg.client.views_update(
                view_id=view_id, view=_modal_for(text, result)))
        finally:
            acked.set()

    # -- the message shortcut "Check with socialguide" ----------------------------------------

    def on_shortcut(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        trigger = body["trigger_id"]
        client = self.sg.client
        try:
            if message.get("user") != user:
                client.views_open(trigger_id=trigger, view=note_modal(
                    "You can check only messages you wrote yourself. To check someone else's "
                    "words, paste them into Check a draft on the Home tab."))
                return
            text = slack_to_plain(message.get("text") or "")
            if not text.strip():
                client.views_open(trigger_id=trigger, view=note_modal(
                    "This message has no text to check."))
                return
            fut, outcome = self._start(text)
            if outcome is not None:
                client.views_open(trigger_id=trigger, view=_modal_for(text, outcome))
                return
            opened = client.views_open(trigger_id=trigger, view=check_modal(text, pending=True))
            view_id = (opened.get("view") or {}).get("id")
            done = threading.Event()
            done.set()  # the modal is already open: the answer may follow at once
            self._later(fut, done, lambda result: client.views_update(
                view_id=view_id, view=_modal_for(text, result)))
        except SlackApiError as exc:
            log.warning("could not answer the draft-check shortcut: %s",
                        exc.response.get("error"))


def _message(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, str):
        return {"text": f"Sorry: {outcome}", "response_type": "ephemeral"}
    return {"text": outcome.summary, "blocks": answer_blocks(outcome),
            "response_type": "ephemeral"}


def _modal_for(text: str, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, str):
        return check_modal(text, error=outcome)
    return check_modal(text, answer=outcome)


def register(sg: SocialGuideApp) -> DraftCheckListeners:
    """Wire draft checks into the Bolt app (call before the main ``/socialguide`` listener)."""
    listeners = DraftCheckListeners(sg)
    listeners.register()
    return listeners
