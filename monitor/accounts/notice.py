"""The transparency notice an employee reads before connecting an account, and its hash.

The text is built from the live configuration so that what it promises (grace window,
retention, digests) is what the code does; the SHA-256 of the exact text shown is stored
with the consent.
"""

from __future__ import annotations

import hashlib

from monitor.config import Settings


def _days(settings: Settings) -> str:
    r = settings.retention
    extra = ", ".join(f"{c}: {d} days" for c, d in sorted(r.days.items()))
    return f"{r.default_days} days" + (f" ({extra})" if extra else "")


def build_notice(settings: Settings, platform: str, handle: str) -> str:
    """The full notice for connecting ``handle`` on ``platform`` (plain text, Slack mrkdwn-safe)."""
    g = settings.guidance
    grace = f"{g.grace_hours:g} hours"
    urgent = ", ".join(g.urgent_categories) or "none"
    digest_text = (
        "Weekly team digests to managers show counts by category and how many posts their "
        "authors resolved themselves - no names and no post text"
    )
    if g.raw_text_in_digests:
        digest_text += (" (except for these categories, where the quoted text and name are "
                        f"shown: {', '.join(g.raw_text_in_digests)})")
    return "\n".join([
        f"You are connecting the {platform} account {handle}.",
        "",
        "What is collected: only the public posts of this account, as anyone on the internet "
        "can see them. Never private messages, likes, followers, or other accounts.",
        "",
        "Why: to help you notice, early and privately, posts that may conflict with the "
        "social media policy - for example a leaked key, someone's personal details, or "
        "news that is not public yet.",
        "",
        "Who sees what, and when:",
        "- You first: a private Slack message quoting the part of the post that was noticed, "
        "with the policy section and a training link.",
        f"- Your manager only if it is still open after {grace}, as a coaching note without "
        "the post's text. If you resolve it in time, your manager hears nothing.",
        f"- For urgent categories ({urgent}) the security or compliance team is told at once "
        "so the key can be rotated.",
        "- The compliance team can see the flag log (including the quoted part) to review it.",
        f"- {digest_text}.",
        "",
        f"How long it is kept: post text for {_days(settings)}, then erased. A record that a "
        "flag existed (without any text) stays in the audit log.",
        "",
        "How to leave: use Disconnect in the app's Home tab or type "
        f"`/socialguide disconnect {platform} {handle}`. Collection stops at once, and the "
        "posts we kept from this account and the text of their flags are erased (except where "
        "a legal hold applies).",
        "",
        "Checking a draft before you post it (`/socialguide check`, Check a draft on the Home "
        "tab or the dashboard) is separate and needs no connected account: nothing about the "
        "draft is kept - no text and no name - only a count per category per week.",
        "",
        f"Policy version {settings.policy.version}: {settings.policy.url}",
    ])


def notice_hash(text: str) -> str:
    """SHA-256 (hex) of the exact notice text shown to the employee."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
