"""Block Kit for draft checks: the private answer, the Home tab's button and the modal."""

from __future__ import annotations

from typing import Any

from monitor.guidance.draft_check import PRIVACY_NOTE, Advice, CheckAnswer
from monitor.slack.blocks import SECTION_LIMIT, escape

CHECK_OPEN = "sg_check_open"  # the Home tab's "Check a draft" button
CHECK_VIEW = "sg_check"  # the modal
CHECK_BLOCK = "sg_check_text"
CHECK_SHORTCUT = "sg_check_message"  # the message shortcut "Check with socialguide"
MODAL_MAX_CHARS = 3000  # Slack's limit for a plain-text input
MAX_ADVICE_BLOCKS = 20
USAGE = ("Type the draft after the command: `/socialguide check <your draft>`, or press "
         "*Check a draft* on the Home tab. Only you see the answer, and nothing is kept.")


def _mrkdwn(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _one_line(text: str) -> str:
    return escape(" ".join(text.split()))


def _advice_text(n: int, a: Advice, policy_url: str) -> str:
    lines = [f"*{n}. This draft seems to include {escape(a.label)}*"
             + (f" ({escape(a.policy_section)})" if a.policy_section else "")]
    if a.excerpt.strip():
        more = f" _(and {a.more_places} more)_" if a.more_places else ""
        lines.append(f"> {_one_line(a.before)} *{_one_line(a.excerpt)}* {_one_line(a.after)}"
                     f"{more}".rstrip())
    lines.append(escape(a.guidance))
    if a.suggestion:
        lines.append(f"_Suggestion - {escape(a.suggestion.title)}:_ "
                     f"{_one_line(a.suggestion.text)}")
    lines.append(f"<{a.training_url}|Training> · <{policy_url}|Policy> · "
                 f"`{escape(a.finding.source)}`")
    return "\n".join(lines)


def answer_blocks(answer: CheckAnswer) -> list[dict[str, Any]]:
    """The private answer: a summary, then per finding what, where, why and what to do."""
    out: list[dict[str, Any]] = [_mrkdwn(f"*{escape(answer.summary)}*")]
    for n, a in enumerate(answer.advice[:MAX_ADVICE_BLOCKS], start=1):
        out.append(_mrkdwn(_advice_text(n, a, answer.policy_url)))
    if len(answer.advice) > MAX_ADVICE_BLOCKS:
        out.append(_mrkdwn(f"…and {len(answer.advice) - MAX_ADVICE_BLOCKS} more; the "
                           "dashboard's Check a draft page shows them all."))
    out.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                 "text": escape(PRIVACY_NOTE)}]})
    return out


def home_button() -> dict[str, Any]:
    """The Home tab's "Check a draft" button (first on the tab)."""
    return {"type": "actions", "block_id": "sg_check_home", "elements": [{
        "type": "button", "text": {"type": "plain_text", "text": "Check a draft"},
        "action_id": CHECK_OPEN, "value": "open", "style": "primary"}]}


def check_modal(draft: str = "", answer: CheckAnswer | None = None, error: str | None = None,
                pending: bool = False) -> dict[str, Any]:
    """The modal: a text box (kept filled after a check, to edit and check again), the answer."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "draft",
                               "multiline": True, "max_length": MODAL_MAX_CHARS,
                               "placeholder": {"type": "plain_text",
                                               "text": "Paste or type your draft"}}
    if draft:
        element["initial_value"] = draft[:MODAL_MAX_CHARS]
    blocks: list[dict[str, Any]] = [{"type": "input", "block_id": CHECK_BLOCK,
                                     "label": {"type": "plain_text", "text": "Your draft"},
                                     "element": element}]
    if pending:
        blocks.append(_mrkdwn("_Checking… the answer appears here in a moment._"))
    if error:
        blocks.append(_mrkdwn(f"*Sorry:* {escape(error)}"))
    if answer is not None:
        blocks += [{"type": "divider"}, *answer_blocks(answer)]
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                        "text": escape(PRIVACY_NOTE)}]})
    return {"type": "modal", "callback_id": CHECK_VIEW,
            "title": {"type": "plain_text", "text": "Check a draft"},
            "submit": {"type": "plain_text", "text": "Check again" if answer else "Check"},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks[:100]}


def note_modal(text: str) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Check a draft"},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": [_mrkdwn(escape(text))]}
