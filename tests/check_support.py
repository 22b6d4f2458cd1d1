"""Shared pieces of the draft-check tests: settings with organisation terms, failing pipelines."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn

from monitor.config import Settings, settings_from_dict
from monitor.domain import Finding, Post
from monitor.pipeline.core import Pipeline

POLICY = {
    "company_names": ["Northwind Labs", "@northwindlabs"],
    "confidential": {"terms": ["Project Falcon"], "customers_under_nda": ["Contoso Bank"]},
    "disparagement": {"competitors": ["Globex"], "customers": ["Contoso Bank"]},
}
AWS_KEY = "AKIAUJZDE8GXD6NCF10E"


def check_settings(db_url: str, **extra: Any) -> Settings:
    """Rules-only settings (the rules engine is built once per process) with policy terms."""
    data: dict[str, Any] = {"store": {"url": db_url}, "model": {"enabled": False},
                            "policy": POLICY}
    for section, values in extra.items():
        data.setdefault(section, {}).update(values)
    return settings_from_dict(data, source="test")


class ExplodingDetector:
    """A detector that fails the way a broken one would: with the draft in its message."""

    name = "exploding"

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        raise RuntimeError(f"cannot handle {posts[0].text!r}")


class ShadowDetector:
    """Returns one shadow finding per post: it must never reach the person who asked."""

    name = "shadow"

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        return [[Finding(category="hate", source="model:test-shadow", severity="low",
                         score=0.6, spans=[(0, 4)], guidance="shadow only", shadow=True)]
                for _ in posts]


def exploding_pipeline(_settings: Settings) -> Pipeline:
    return Pipeline(detectors=[ExplodingDetector()])


@contextmanager
def serving(app: Any, log_level: str = "warning") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port); yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level=log_level, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
