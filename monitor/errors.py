"""One error hierarchy for socialguide; library errors are translated into these at the edges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


class SocialGuideError(Exception):
    """Base of every error socialguide raises on purpose; the CLI turns it into one clear line."""

    exit_code = 1


class ConfigError(SocialGuideError):
    """The configuration file is missing, unreadable or invalid (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, path: Path | str | None = None, key: str | None = None):
        self.path = str(path) if path is not None else None
        self.key = key
        where = ""
        if self.path:
            where = f"{self.path}: "
        if key:
            where += f"key '{key}': "
        super().__init__(f"{where}{message}")


class RuleError(SocialGuideError):
    """A rule file is invalid; names the file, the line (when known) and the field."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        rule_id: str | None = None,
    ):
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.rule_id = rule_id
        parts = []
        if self.path:
            parts.append(self.path + (f":{line}" if line else ""))
        if rule_id:
            parts.append(f"rule {rule_id}")
        if field:
            parts.append(f"field '{field}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class InputError(SocialGuideError):
    """A user-supplied file (JSONL, CSV) has a bad line; names the file and the line number."""

    exit_code = 1

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path:
            where = path + (f":{line}" if line else "")
        elif line:
            where = f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class NotFoundError(SocialGuideError):
    """A requested record (person, account, flag) does not exist."""


class StoreError(SocialGuideError):
    """The database could not be opened or migrated."""


class ModelError(SocialGuideError):
    """A classifier artifact is missing, foreign, tampered with or from another library version."""

    exit_code = 2


class CollectorError(SocialGuideError):
    """A collector could not read an account; the cycle goes on with the others."""

    def __init__(self, message: str, platform: str | None = None, account: str | None = None):
        self.platform = platform
        self.account = account
        where = "/".join(p for p in (platform, account) if p)
        super().__init__(f"{where}: {message}" if where else message)


class RateLimited(CollectorError):
    """A platform asked us to slow down; ``reset_at`` says when we may try again."""

    def __init__(
        self,
        message: str,
        reset_at: datetime | None = None,
        platform: str | None = None,
        account: str | None = None,
    ):
        self.reset_at = reset_at
        super().__init__(message, platform=platform, account=account)


class DeliveryError(SocialGuideError):
    """A nudge could not be delivered; it stays in the outbox for a retry."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False):
        self.retry_after = retry_after
        self.permanent = permanent
        super().__init__(message)
