"""People as the Slack app reaches them: who is imported, with their Slack ids."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import PersonRow


def slack_contacts(session: Session) -> list[tuple[str, str | None]]:
    """Every person's email and Slack id (None until known), by email."""
    return [(p.email, p.slack_id)
            for p in session.scalars(select(PersonRow).order_by(PersonRow.email))]
