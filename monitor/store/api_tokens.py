"""Integration tokens for ``POST /api/v1/check``.

A token is shown once, when it is made; the store keeps its SHA-256 only. Every request
looks the hash up, so a revocation holds from the very next request, in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.errors import InputError, NotFoundError
from monitor.store.audit import record
from monitor.store.schema import ApiTokenRow

TOKEN_PREFIX = "sgk_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._\-]{0,99}")
# What a presented token may look like before we hash it (no point hashing a megabyte).
_TOKEN_SHAPE = re.compile(r"sgk_[A-Za-z0-9_\-]{20,100}")


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a token, the only form the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(session: Session, name: str, actor: str = "cli") -> tuple[ApiTokenRow, str]:
    """Create a token for one integration; returns the row and the token (shown only now)."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InputError("a token name is 1 to 100 letters, digits, spaces, dots, dashes or "
                         "underscores, starting with a letter or digit")
    if session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == name)) is not None:
        raise InputError(f"a token named '{name}' already exists (revoke it, or pick "
                         "another name)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(name=name, token_hash=token_hash(token), prefix=token[:10],
                      created_by=actor)
    session.add(row)
    session.flush()
    record(session, actor, "api_token.added", "api_token", row.id, {"name": name})
    return row, token


def list_tokens(session: Session) -> list[ApiTokenRow]:
    """Every token, live and revoked, oldest first."""
    return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))


def revoke_token(session: Session, name: str, actor: str = "cli") -> ApiTokenRow:
    """Revoke a token by name (or id); already revoked is an error that says so."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.name == name.strip()))
    if row is None and name.strip().isdigit():
        row = session.get(ApiTokenRow, int(name.strip()))
    if row is None:
        raise NotFoundError(f"no token named '{name}' (see `socialguide tokens list`)")
    if row.revoked_at is not None:
        raise InputError(f"token '{row.name}' was already revoked on "
                         f"{row.revoked_at:%Y-%m-%d %H:%M} UTC")
    row.revoked_at = utcnow()
    session.flush()
    record(session, actor, "api_token.revoked", "api_token", row.id, {"name": row.name})
    return row


def live_token(session: Session, presented: str) -> ApiTokenRow | None:
    """The unrevoked token row for a presented token, else None."""
    if not _TOKEN_SHAPE.fullmatch(presented):
        return None
    wanted = token_hash(presented)
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == wanted))
    if row is None or row.revoked_at is not None:
        return None
    # The lookup was by hash; compare again in constant time for good measure.
    return row if hmac.compare_digest(row.token_hash, wanted) else None
