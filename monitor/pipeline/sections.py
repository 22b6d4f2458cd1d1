"""One policy section, severity and guidance per category, wherever a finding is shown.

Rule packs carry their own wording per rule; a model finding speaks for its category, and
both name the same section of the written policy for the same offence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryText:
    """What a model finding of one category says to the person who reads it."""

    section: str
    severity: str
    guidance: str


CATEGORY_TEXT: dict[str, CategoryText] = {
    "offensive": CategoryText(
        "SMP §3.1 Respectful conduct", "medium",
        "This post may read as insulting or hostile to someone. If that is not what you meant, "
        "consider rewording or removing it."),
    "hate": CategoryText(
        "SMP §3.2 Hateful conduct", "high",
        "This post may read as an attack on people for who they are. Please consider removing "
        "it; your manager or compliance can talk it through with you."),
    "pii": CategoryText(
        "SMP §4.3 Personal data of others", "high",
        "This post seems to share someone else's personal details. Please consider removing "
        "them; if it was shared by mistake, the person may need to know."),
    "credentials": CategoryText(
        "SMP §4.2 Credentials", "critical",
        "This post seems to contain a password, key or token. Please remove it and rotate the "
        "secret: anyone who saw it can use it."),
    "confidential": CategoryText(
        "SMP §5.1 Confidential information", "high",
        "This post seems to mention something internal (a codename, unreleased work or a "
        "client relationship). Please check it is public before it stays up."),
    "financial": CategoryText(
        "SMP §6.1 Financial information", "high",
        "This post seems to hint at the company's results, deals or plans before they are "
        "public. Please consider removing it; Investor Relations can help with what can be said."),
    "disparagement": CategoryText(
        "SMP §7.1 Speaking about others", "medium",
        "This post may read as an attack on a customer, competitor or the company. Criticism is "
        "fine; claims of fraud or insults are not. Consider rewording it."),
    "company_voice": CategoryText(
        "SMP §8.1 Speaking for the company", "low",
        "This post may read as an official statement of the company. If it is your own view, "
        "a short disclaimer helps; official answers come from the company's own channels."),
}
