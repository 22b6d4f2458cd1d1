"""Structured logging: plain lines for people, JSON lines for log shippers; secrets redacted."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

_TOKEN_LIKE = re.compile(r"(xox[abprs]-|xapp-|Bearer\s+)[A-Za-z0-9._\-]+")


class _Redactor(logging.Filter):
    """Last line of defence: masks token-shaped strings and any configured secret value."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = _TOKEN_LIKE.sub(r"\1[redacted]", msg)
        for name in _secret_env_names():
            value = os.environ.get(name)
            if value and len(value) >= 6 and value in clean:
                clean = clean.replace(value, "[redacted]")
        if clean != msg:
            record.msg = clean
            record.args = None
        return True


def _secret_env_names() -> list[str]:
    return [
        n
        for n in os.environ
        if any(k in n for k in ("TOKEN", "SECRET", "PASSWORD", "KEY"))
    ]


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("platform", "account", "flag_id", "nudge_id", "job"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, json_format: bool = False) -> None:
    """Configure the ``monitor`` logger once per process (idempotent)."""
    logger = logging.getLogger("monitor")
    logger.setLevel(level)
    for h in list(logger.handlers):
        if getattr(h, "_socialguide", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler()
    handler._socialguide = True  # type: ignore[attr-defined]
    handler.addFilter(_Redactor())
    if json_format:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = True
