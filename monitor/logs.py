"""Structured logging: plain lines for people, JSON lines for log shippers; secrets redacted."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

import re2

# Known credential formats, URL passwords and private key blocks. Logs are the last line of
# defence: a message or traceback that quotes one of these shows "[redacted]" instead.
_PRIVATE_KEY = re2.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)")
_URL_PASSWORD = re2.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(@)")
_KEY_FORMATS = re2.compile(
    r"\b(?:"
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub tokens
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|xox[abeprs]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"  # SendGrid
    r"|npm_[A-Za-z0-9]{36}"  # npm
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWT
    r")")
_BEARER = re2.compile(r"(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_ASSIGNED = re2.compile(
    r"(?i)(\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]{4,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with credential-shaped values and configured secret values replaced."""
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\2", text)
    text = _KEY_FORMATS.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1\2{REDACTED}", text)
    text = _ASSIGNED.sub(rf"\1{REDACTED}", text)
    for name in _secret_env_names():
        value = os.environ.get(name)
        if value and len(value) >= 6 and value in text:
            text = text.replace(value, REDACTED)
    return text


class _Redactor(logging.Filter):
    """Masks secrets in the message before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg = clean
            record.args = None
        return True


class _RedactingFormatter(logging.Formatter):
    """Plain lines, with tracebacks (which may quote values) redacted too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _secret_env_names() -> list[str]:
    return [
        n
        for n in os.environ
        if any(k in n for k in ("TOKEN", "SECRET", "PASSWORD", "KEY"))
    ]


class _JsonFormatter(logging.Formatter):
    """One JSON object per line for log shippers; the traceback is redacted like the message."""

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
            data["exc"] = redact(self.formatException(record.exc_info))
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
        handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = True
