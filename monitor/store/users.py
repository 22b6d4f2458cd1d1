"""Dashboard user rows: looked up by sign-in name, by email for single sign-on, or listed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.schema import PersonRow, UserRow


def user_by_username(session: Session, username: str) -> UserRow | None:
    """The user with exactly this sign-in name (the caller strips it), or None."""
    return session.scalar(select(UserRow).where(UserRow.username == username))


def user_by_email(session: Session, email: str) -> UserRow | None:
    """The user whose sign-in name is this email, ignoring case (how single sign-on finds one)."""
    return session.scalar(select(UserRow).where(func.lower(UserRow.username) == email.lower()))


def person_by_email(session: Session, email: str) -> PersonRow | None:
    """The person with this email, ignoring case and surrounding spaces, or None."""
    return session.scalar(
        select(PersonRow).where(func.lower(PersonRow.email) == email.strip().lower())
    )


def username_taken(session: Session, username: str) -> bool:
    """Whether a user already has this exact sign-in name."""
    return session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None


def users_with_emails(session: Session) -> list[tuple[UserRow, str | None]]:
    """Every user with the email of the person they are linked to, by username."""
    rows = session.execute(
        select(UserRow, PersonRow.email)
        .outerjoin(PersonRow, PersonRow.id == UserRow.person_id)
        .order_by(UserRow.username)
    )
    return [(u, email) for u, email in rows]
