"""Block Kit for nudges, the consent modal, the reason modal and App Home (plain dicts)."""

from __future__ import annotations

import json
from typing import Any

# Action ids: the Bolt app listens for exactly these.
AUTHOR_HANDLED = "sg_author_handled"
AUTHOR_FINE = "sg_author_fine"
AUTHOR_ASK = "sg_author_ask"
MANAGER_TALKED = "sg_manager_talked"
MANAGER_ASK = "sg_manager_ask"
DISCONNECT = "sg_disconnect"
VERIFY = "sg_verify"
NEW_CODE = "sg_new_code"
CONSENT_VIEW = "sg_consent"
REASON_VIEW = "sg_reason"
CONSENT_BLOCK = "sg_consent_ack"
REASON_BLOCK = "sg_reason_text"

SECTION_LIMIT = 2900  # Slack refuses section text over 3000 characters


def escape(text: str) -> str:
    """Escape Slack's control characters so quoted posts cannot ping @channel or fake links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_quote_safe(body: str) -> str:
    # Keep our own "> " quote markers (line starts) but escape everything else.
    lines = []
    for line in body.split("\n"):
        if line.startswith("> "):
            lines.append("> " + escape(line[2:]))
        else:
            lines.append(escape(line))
    return "\n".join(lines)


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text},
                         "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def nudge_blocks(role: str, kind: str, flag_id: int | None, body: str) -> list[dict[str, Any]]:
    """The message for one outbox entry: its text, plus the buttons its recipient may press."""
    blocks = [_section(_mrkdwn_quote_safe(body))]
    if flag_id is None:
        return blocks
    v = str(flag_id)
    if role == "author":
        blocks.append({"type": "actions", "block_id": f"flag:{v}", "elements": [
            _button("I've handled it", AUTHOR_HANDLED, v, "primary"),
            _button("This is fine because…", AUTHOR_FINE, v),
            _button("Ask compliance", AUTHOR_ASK, v),
        ]})
    elif role == "manager" and kind == "coaching":
        blocks.append({"type": "actions", "block_id": f"flag:{v}", "elements": [
            _button("Talked, all fine", MANAGER_TALKED, v, "primary"),
            _button("Ask compliance", MANAGER_ASK, v),
        ]})
    return blocks


def answered_blocks(original: list[dict[str, Any]] | None, note: str) -> list[dict[str, Any]]:
    """The nudge after a button press: same text, buttons replaced by what happened."""
    kept = [b for b in (original or []) if b.get("type") != "actions"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}]


def consent_modal(notice: str, metadata: dict[str, str]) -> dict[str, Any]:
    """The transparency notice with an explicit, required "I agree" before anything is stored."""
    chunks = [notice[i : i + SECTION_LIMIT] for i in range(0, len(notice), SECTION_LIMIT)]
    return {
        "type": "modal",
        "callback_id": CONSENT_VIEW,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Connect an account"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            *[{"type": "section", "text": {"type": "mrkdwn", "text": escape(c)}} for c in chunks],
            {"type": "input", "block_id": CONSENT_BLOCK,
             "label": {"type": "plain_text", "text": "Your consent"},
             "element": {"type": "checkboxes", "action_id": "agree", "options": [{
                 "text": {"type": "plain_text", "text": "I have read this notice and agree"},
                 "value": "agree"}]}},
        ],
    }


def verify_blocks(text: str, account_id: int) -> list[dict[str, Any]]:
    """The ownership step: what to do with the code, and the Verify / New code buttons."""
    v = str(account_id)
    return [_section(escape(text)), {"type": "actions", "block_id": f"verify:{v}", "elements": [
        _button("Verify", VERIFY, v, "primary"), _button("New code", NEW_CODE, v)]}]


def done_modal(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title[:24]},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [_section(escape(text))]}


def reason_modal(flag_id: int, metadata: dict[str, str]) -> dict[str, Any]:
    """Asks the author for a short reason why the post is fine."""
    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "private_metadata": json.dumps({"flag_id": flag_id, **metadata}),
        "title": {"type": "plain_text", "text": "This is fine because…"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            _section("Thanks for explaining. A sentence is plenty; it helps us improve the "
                     "checks, and the flag is closed."),
            {"type": "input", "block_id": REASON_BLOCK,
             "label": {"type": "plain_text", "text": "Reason"},
             "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                         "min_length": 3, "max_length": 500}},
        ],
    }


def home_view(
    accounts: list[dict[str, Any]], flags: list[dict[str, Any]], nudges: list[dict[str, Any]],
    help_text: str,
) -> dict[str, Any]:
    """App Home: the employee's accounts (with disconnect), their own flags and nudges."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your connected accounts"}},
    ]
    if not accounts:
        blocks.append(_section("No accounts connected. " + escape(help_text)))
    for a in accounts:
        state = "" if a.get("verified", True) else (
            "\nNot verified yet: nothing is collected until the code we sent you is in this "
            "account's public profile and you press Verify.")
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn", "text": escape(
                f"{a['platform']}: {a['handle']} - consent given {a['given']} "
                f"(policy {a['policy_version']})" + state)},
            "accessory": {
                **_button("Disconnect", DISCONNECT, str(a["id"]), "danger"),
                "confirm": {
                    "title": {"type": "plain_text", "text": "Disconnect this account?"},
                    "text": {"type": "mrkdwn", "text": escape(
                        "Collection stops and the posts we kept from this account, and the "
                        "text of any flags on them, are erased now.")},
                    "confirm": {"type": "plain_text", "text": "Disconnect"},
                    "deny": {"type": "plain_text", "text": "Keep"},
                },
            },
        })
        if not a.get("verified", True):
            blocks.append({"type": "actions", "block_id": f"verify:{a['id']}", "elements": [
                _button("Verify", VERIFY, str(a["id"]), "primary"),
                _button("New code", NEW_CODE, str(a["id"]))]})
    blocks += [{"type": "divider"},
               {"type": "header", "text": {"type": "plain_text", "text": "Flags on your posts"}}]
    if not flags:
        blocks.append(_section("Nothing flagged."))
    for f in flags[:20]:
        quote = f"\n> {escape(f['excerpt'])}" if f.get("excerpt") else ""
        blocks.append(_section(escape(
            f"#{f['id']} {f['created']} - {f['platform']} - {f['category']} - {f['status']}"
        ) + quote))
    blocks += [{"type": "divider"},
               {"type": "header", "text": {"type": "plain_text", "text": "Messages we sent you"}}]
    if not nudges:
        blocks.append(_section("None yet."))
    for n in nudges[:20]:
        blocks.append(_section(escape(f"{n['when']} - {n['subject']} ({n['status']})")))
    return {"type": "home", "blocks": blocks[:100]}
