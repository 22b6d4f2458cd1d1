"""Message wording per category: supportive, specific, never accusatory.

Tests scan every template for accusatory words, so keep the tone of a colleague who
noticed something, not an investigator.
"""

from __future__ import annotations

from monitor.config import Settings

CATEGORY_LABELS: dict[str, str] = {
    "offensive": "language that could hurt someone",
    "hate": "wording that could come across as hostile to a group of people",
    "pii": "someone else's personal details",
    "credentials": "what looks like a password, key or token",
    "confidential": "something that may be internal or under NDA",
    "financial": "information that may be market-sensitive",
    "disparagement": "a remark that could read as an attack on a customer, partner or competitor",
    "company_voice": "a statement that could read as speaking for the company",
}

ROTATE_STEPS = (
    "1. Delete the post (or edit the secret out).\n"
    "2. Revoke or rotate the key in the system it belongs to - assume it was seen.\n"
    "3. Let security know which system it was; they are happy to help."
)

TALKING_POINTS: dict[str, str] = {
    "offensive": "Ask how the conversation came about; agree together on a calmer way to disagree.",
    "hate": "Listen first; share why the policy protects everyone, and point to the training.",
    "pii": "Check whether the person agreed to share it; suggest removing personal details.",
    "credentials": "Make sure the key was rotated; no blame, leaks happen to everyone.",
    "confidential": "Check whether it was already public; remind which projects are still internal.",
    "financial": "Explain quiet periods kindly; suggest waiting for the official announcement.",
    "disparagement": "Talk about constructive ways to raise concerns; opinions are welcome.",
    "company_voice": "Suggest adding 'views are my own' or routing official news via comms.",
}


def training_link(settings: Settings, category: str) -> str:
    return settings.guidance.training_links.get(category, settings.guidance.training_url)


def author_message(
    settings: Settings, category: str, quote: str, guidance: str, policy_section: str | None,
    platform: str, urgent: bool,
) -> tuple[str, str]:
    """Subject and body of the private note to the post's author."""
    label = CATEGORY_LABELS.get(category, "something worth a second look")
    subject = f"A quick heads-up about one of your {platform} posts"
    lines = [
        f"Hi! We noticed a recent {platform} post that seems to include {label}:",
        f"> {quote}",
        "",
        guidance or "It might be worth a second look.",
    ]
    if urgent:
        lines += ["", "What helps most right now:", ROTATE_STEPS]
    if policy_section:
        lines += ["", f"Policy: {policy_section} ({settings.policy.url})"]
    lines += [
        f"Training: {training_link(settings, category)}",
        "",
        "If you have already handled it, or it is fine as it is, just let us know - "
        "nobody else is told about it unless it stays open.",
    ]
    return subject, "\n".join(lines)


def manager_message(
    settings: Settings, category: str, policy_section: str | None, member_label: str,
    quote: str | None,
) -> tuple[str, str]:
    """Subject and body of the coaching note to a manager."""
    label = CATEGORY_LABELS.get(category, "a possible policy question")
    subject = "A coaching opportunity on your team"
    lines = [
        f"A post by {member_label} seems to include {label}, and it is still open after the "
        "grace period.",
    ]
    if quote:
        lines += [f"> {quote}"]
    lines += [
        "",
        "Talking points:",
        f"- {TALKING_POINTS.get(category, 'Start by listening; most posts have context.')}",
        "- Keep it a conversation: the aim is support, not a reprimand.",
    ]
    if policy_section:
        lines += ["", f"Policy: {policy_section} ({settings.policy.url})"]
    lines += [f"Training: {training_link(settings, category)}"]
    return subject, "\n".join(lines)


def escalation_message(
    settings: Settings, flag_id: int, category: str, by_role: str, platform: str
) -> tuple[str, str]:
    """Subject and body of the note to the compliance channel when someone asks for help."""
    who = "The post's author" if by_role == "author" else "A manager"
    subject = f"Question about flag #{flag_id}"
    body = "\n".join([
        f"{who} would like compliance's view on flag #{flag_id} ({category}, {platform}).",
        "It is in the review queue on the dashboard; a short reply to them is appreciated.",
    ])
    return subject, body


def digest_message(
    settings: Settings,
    team_label: str,
    counts: dict[str, int],
    self_resolved: int,
    total: int,
    details: list[tuple[str, str, str]],
) -> tuple[str, str]:
    """Subject and body of a manager's weekly team digest.

    ``details`` holds (category, member label, quoted text) only for the categories the
    config allows to show raw text in digests; the caller leaves it empty otherwise.
    """
    subject = f"Your team's week on social media ({team_label})"
    share = round(100 * self_resolved / total) if total else 0
    lines = [
        f"This week {total} post{'s' if total != 1 else ''} on your team got a second look.",
        f"{share}% were resolved by their authors themselves.",
        "",
        "By category:",
    ]
    lines += [f"- {CATEGORY_LABELS.get(c, c)} ({c}): {n}"
              for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines += ["", "Talking points for the team meeting:"]
    for c in sorted(counts, key=lambda c: (-counts[c], c))[:3]:
        lines.append(f"- {TALKING_POINTS.get(c, 'Start by listening; most posts have context.')}"
                     f" Training: {training_link(settings, c)}")
    lines.append("- Celebrate the self-fixes: that is the habit we want.")
    if details:
        lines += ["", "Details (shared for these categories by your organisation's settings):"]
        for c, who, quote in details:
            lines.append(f"- {c}, {who}:")
            lines.append(f"> {quote}")
    return subject, "\n".join(lines)
