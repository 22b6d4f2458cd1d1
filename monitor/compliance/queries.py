"""The flag log: validated filters, keyset paging (fast on deep pages), scoped to the viewer."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.compliance.users import Viewer
from monitor.domain import CATEGORIES, SEVERITY_ORDER, FlagStatus
from monitor.errors import NotFoundError, SocialGuideError
from monitor.store import Session
from monitor.store.flag_log import flags_after, visible_flag
from monitor.store.schema import FlagRow

STATUSES: tuple[str, ...] = tuple(s.value for s in FlagStatus)
MAX_LIMIT = 200
DEFAULT_LIMIT = 50

_TEAM = re.compile(r"^[\w][\w .&+/()-]{0,199}$")
_PLATFORM = re.compile(r"^[a-z0-9_-]{1,32}$")
_RULE = re.compile(r"^(rule|model):[\w.:/-]{1,190}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII only: str.isdigit() also takes "²" and "٣"
_ID = re.compile(r"^[0-9]{1,10}$")
# The dates a flag can carry; beyond them date arithmetic overflows (9999-12-31 + 1 day).
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2999, 12, 31)
# Database integer keys (PostgreSQL INTEGER): anything larger names nothing.
MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FILTER_KEYS = ("category", "severity", "status", "team", "platform", "rule", "since", "until", "q")


class BadQuery(SocialGuideError):
    """A filter or paging parameter is invalid; the message names the parameter."""

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(f"parameter '{param}': {message}")


@dataclass(frozen=True, slots=True)
class FlagQuery:
    """A validated filter over the flag log."""

    category: str | None = None
    severity: str | None = None
    status: str | None = None
    team: str | None = None
    platform: str | None = None
    rule: str | None = None
    since: date | None = None
    until: date | None = None
    q: str | None = None

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for links, exports and audit details)."""
        out: dict[str, str] = {}
        for key in FILTER_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, date) else str(value)
        return out


def parse_query(
    params: Mapping[str, str], *, allowed_extra: tuple[str, ...] = ()
) -> FlagQuery:
    """Validate raw query parameters; anything unexpected is a :class:`BadQuery`."""
    for key in params:
        if key not in FILTER_KEYS and key not in allowed_extra:
            raise BadQuery(key, "unknown parameter")
    raw = {k: params[k].strip() for k in FILTER_KEYS if k in params and params[k].strip() != ""}
    _choice(raw, "category", CATEGORIES)
    _choice(raw, "severity", SEVERITY_ORDER)
    _choice(raw, "status", STATUSES)
    _pattern(raw, "team", _TEAM, "letters, digits, spaces and . & + / ( ) - only, 200 at most")
    _pattern(raw, "platform", _PLATFORM, "lower-case letters, digits, _ and - only")
    _pattern(raw, "rule", _RULE, "expected rule:<rule id> or model:<model name>")
    since = _date(raw, "since")
    until = _date(raw, "until")
    if since and until and since > until:
        raise BadQuery("since", "must not be after 'until'")
    q = raw.get("q")
    if q is not None:
        if len(q) > 200:
            raise BadQuery("q", "search text is longer than 200 characters")
        if _CONTROL.search(q):
            raise BadQuery("q", "search text contains control characters")
    return FlagQuery(
        category=raw.get("category"),
        severity=raw.get("severity"),
        status=raw.get("status"),
        team=raw.get("team"),
        platform=raw.get("platform"),
        rule=raw.get("rule"),
        since=since,
        until=until,
        q=q,
    )


def parse_limit(value: str | None) -> int:
    """The page size: ASCII digits from 1 to ``MAX_LIMIT``."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not _NUMBER.match(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadQuery("limit", f"expected a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def parse_id(value: str) -> int | None:
    """A database id from text (ASCII digits, 1 to ``MAX_ID``), or None."""
    if not _ID.match(value):
        return None
    n = int(value)
    return n if 1 <= n <= MAX_ID else None


def _choice(raw: dict[str, str], key: str, allowed: tuple[str, ...]) -> None:
    if key in raw and raw[key] not in allowed:
        raise BadQuery(key, f"expected one of {', '.join(allowed)}")


def _pattern(raw: dict[str, str], key: str, pattern: re.Pattern[str], what: str) -> None:
    if key in raw and not pattern.match(raw[key]):
        raise BadQuery(key, what)


def _date(raw: dict[str, str], key: str) -> date | None:
    if key not in raw:
        return None
    value = raw[key]
    try:
        if not _DATE.match(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise BadQuery(key, "expected a date as YYYY-MM-DD") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise BadQuery(key, f"expected a date from {MIN_DATE} to {MAX_DATE}")
    return day


# Keyset cursor: the (created_at, id) of the last row shown, opaque to the browser.

def encode_cursor(created_at: datetime, flag_id: int) -> str:
    raw = f"{created_at.astimezone(UTC).isoformat()}|{flag_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        if len(value) > 120:
            raise ValueError
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, _, fid = raw.partition("|")
        when = datetime.fromisoformat(at)
        flag_id = parse_id(fid)
        if when.tzinfo is None or flag_id is None:
            raise ValueError
        return when, flag_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadQuery("after", "not a valid page cursor") from None


@dataclass(slots=True)
class FlagPage:
    """One page of the flag log and the cursor of the next one."""

    rows: list[FlagRow]
    next_cursor: str | None


def flag_page(
    session: Session,
    viewer: Viewer,
    query: FlagQuery,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> FlagPage:
    """One keyset page: rows strictly after the cursor, so deep pages cost what the first does."""
    rows = flags_after(session, viewer, query, decode_cursor(after) if after else None,
                       limit + 1)
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id)
    return FlagPage(rows, nxt)


def iter_flags(
    session: Session, viewer: Viewer, query: FlagQuery, *, batch: int = 1000
) -> Iterator[FlagRow]:
    """Every matching flag, one keyset page at a time (memory stays flat for any size)."""
    after: str | None = None
    while True:
        page = flag_page(session, viewer, query, after=after, limit=batch)
        yield from page.rows
        session.expunge_all()
        if page.next_cursor is None:
            return
        after = page.next_cursor


def get_flag(session: Session, viewer: Viewer, flag_id: int) -> FlagRow:
    """The flag if ``viewer`` may see it; otherwise NotFoundError, so existence is not leaked."""
    if not 1 <= flag_id <= MAX_ID:  # beyond the key's range: nothing there (and no overflow)
        raise NotFoundError(f"flag {flag_id} not found")
    flag = visible_flag(session, viewer, flag_id)
    if flag is None:
        raise NotFoundError(f"flag {flag_id} not found")
    return flag
