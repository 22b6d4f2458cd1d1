"""Dashboard users: argon2-hashed passwords, roles, and the link to the people table."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.errors import InputError, NotFoundError
from monitor.store import Session
from monitor.store.audit import record
from monitor.store.schema import UserRow
from monitor.store.users import person_by_email, user_by_username, username_taken, users_with_emails

ROLES = ("compliance", "manager", "employee", "auditor")
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: what the dashboard and the queries need to know about a user."""

    user_id: int
    username: str
    role: str
    person_id: int | None

    @property
    def can_review(self) -> bool:
        return self.role in ("compliance", "manager")

    @property
    def can_export(self) -> bool:
        return self.role in ("compliance", "auditor", "manager")

    @property
    def sees_everything(self) -> bool:
        return self.role in ("compliance", "auditor")


def viewer_of(user: UserRow) -> Viewer:
    """What the dashboard needs to know about a signed-in user."""
    return Viewer(user.id, user.username, user.role, user.person_id)


def hash_password(password: str) -> str:
    """An argon2 hash with the library's default costs."""
    return _hasher.hash(password)


def check_new_user(
    session: Session, username: str, role: str, person_email: str | None = None
) -> int | None:
    """Refuse a user that cannot be added (before anyone types a password); the person's id."""
    username = username.strip()
    if not username or len(username) > 320:
        raise InputError("username must be 1 to 320 characters")
    if role not in ROLES:
        raise InputError(f"unknown role '{role}' (expected one of {', '.join(ROLES)})")
    person_id = None
    if person_email:
        person = person_by_email(session, person_email)
        if person is None:
            raise NotFoundError(f"no person with email {person_email} (run `people import` first)")
        person_id = person.id
    elif role in ("manager", "employee"):
        raise InputError(f"a {role} must be linked to a person: pass --person EMAIL")
    if username_taken(session, username):
        raise InputError(f"user '{username}' already exists")
    return person_id


def check_password(password: str) -> None:
    """Refuse a password too short to be one."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password must be at least {MIN_PASSWORD} characters")


def add_user(
    session: Session,
    username: str,
    role: str,
    password: str | None,
    *,
    person_email: str | None = None,
    actor: str = "cli",
) -> UserRow:
    """Create a user; managers and employees must be linked to a person.

    ``password=None`` makes a single-sign-on-only user: password sign-in always fails.
    """
    person_id = check_new_user(session, username, role, person_email)
    if password is not None:
        check_password(password)
    user = UserRow(
        username=username.strip(),
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        person_id=person_id,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.added", "user", user.id,
           {"role": role, "person_id": person_id, "sso_only": password is None})
    return user


def user_named(session: Session, username: str) -> UserRow:
    """The user with this sign-in name, or NotFoundError naming it."""
    user = user_by_username(session, username.strip())
    if user is None:
        raise NotFoundError(f"no user '{username}' (socialguide users list shows them)")
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str = "cli") -> bool:
    """Disable or enable a user (audited); returns whether anything changed.

    A disabled user's password and SSO sign-ins are refused and open sessions end at their
    next request.
    """
    user = user_named(session, username)
    if bool(user.disabled) == disabled:
        return False
    user.disabled = disabled
    record(session, actor, "user.disabled" if disabled else "user.enabled", "user", user.id,
           {"role": user.role})
    return True


def reset_password(session: Session, username: str, password: str, *, actor: str = "cli") -> None:
    """Set a new password (audited, without the password); an SSO-only user gains one."""
    check_password(password)
    user = user_named(session, username)
    user.password_hash = hash_password(password)
    record(session, actor, "user.password_reset", "user", user.id, {"role": user.role})


def list_users(session: Session) -> list[tuple[UserRow, str | None]]:
    """Every user with the email of the person they are linked to, by username."""
    return users_with_emails(session)


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    """The user if the password matches and the account is enabled, else None."""
    user = user_by_username(session, username.strip())
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled or not user.password_hash:
        return None
    return user
