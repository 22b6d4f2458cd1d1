"""The one way socialguide builds a Slack Web API client: configured base URL, timeouts, retries."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from monitor.config import Settings, secret

# slack_sdk logs request bodies (message text) at DEBUG: never let them reach our logs.
logging.getLogger("slack_sdk").setLevel(logging.INFO)
logging.getLogger("slack_bolt").setLevel(logging.INFO)


def retry_after_seconds(headers: dict[str, Any]) -> float | None:
    """The Retry-After header of a response (any case, list or str) in seconds, if present."""
    for k, v in (headers or {}).items():
        if k.lower() == "retry-after":
            value = v[0] if isinstance(v, list | tuple) else v
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Honours Retry-After in-process only for short waits.

    A longer wait is better spent elsewhere: the 429 then surfaces, and the outbox schedules
    the nudge for ``now + Retry-After`` instead of blocking the delivery job.
    """

    def __init__(self, max_wait_seconds: float, max_retry_count: int = 1):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_seconds(dict(response.headers))
        return wait is not None and wait <= self.max_wait_seconds


def retry_handlers(settings: Settings) -> list[RetryHandler]:
    """Connection errors, short rate limits and 500/503 are retried inside the client."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        BoundedRateLimitRetryHandler(settings.slack.rate_limit_max_wait_seconds),
        ServerErrorRetryHandler(max_retry_count=1),
    ]


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient for the configured workspace; the bot token comes from its env variable."""
    if token is None:
        token = secret(settings.slack.bot_token_env, what="Slack bot token")
    base = settings.slack.base_url
    if not base.endswith("/"):
        base += "/"
    return WebClient(
        token=token,
        base_url=base,
        # urllib accepts a float timeout although slack_sdk annotates int.
        timeout=settings.slack.timeout_seconds,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(settings),
    )
