"""Where delivered nudges go: Slack in production, the console for the demo and operators."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.panel import Panel

from monitor.errors import DeliveryError
from monitor.store.schema import NudgeRow, PersonRow


class DeliveryPaused(DeliveryError):
    """The channel itself is unusable (revoked token, bad credentials, missing scope).

    Nothing can be delivered until an operator fixes it: the outbox stops the run, keeps the
    nudge pending and does not count the attempt against it.
    """


class Notifier(Protocol):
    """Delivers one nudge; returns an external reference (e.g. a Slack message ts).

    Raises :class:`monitor.errors.DeliveryError` when the nudge should stay in the outbox.
    """

    def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str: ...


class ConsoleNotifier:
    """Prints each nudge as a panel; used by the demo and when Slack is not configured."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True, highlight=False)
        self.sent: list[int] = []

    def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
        to = recipient.email if recipient is not None else nudge.recipient_email or nudge.role
        self.console.print(
            Panel(nudge.body, title=f"{nudge.kind} -> {to}", subtitle=nudge.subject, expand=False),
            markup=False,
        )
        self.sent.append(nudge.id)
        return f"console:{nudge.id}"
