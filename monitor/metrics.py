"""Prometheus metrics and the /metrics + /healthz endpoint of the daemon."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

POSTS = Counter("socialguide_posts_collected", "Posts read from a platform",
                ["platform"], registry=REGISTRY)
FLAGS = Counter("socialguide_flags", "Flags raised by the pipeline",
                ["platform", "category"], registry=REGISTRY)
NUDGES = Counter("socialguide_nudges", "Nudges planned or delivered",
                 ["state"], registry=REGISTRY)
ERRORS = Counter("socialguide_collect_errors", "Accounts that could not be collected",
                 ["platform"], registry=REGISTRY)
REQUESTS = Counter("socialguide_platform_requests", "HTTP requests made to a platform",
                   ["platform"], registry=REGISTRY)
LAST_GOOD = Gauge("socialguide_last_good_cycle_timestamp_seconds",
                  "Unix time of the last collection cycle that finished without a platform-wide "
                  "failure", ["platform"], registry=REGISTRY)
CYCLE_SECONDS = Gauge("socialguide_cycle_duration_seconds", "Wall time of the last cycle",
                      ["platform"], registry=REGISTRY)
JOB_FAILURES = Counter("socialguide_job_failures", "Scheduled jobs that raised",
                       ["job"], registry=REGISTRY)

_started = time.time()
_last_good: dict[str, float] = {}
_lock = threading.Lock()


def observe_platform(platform: str, *, posts: int, flags: dict[str, int], errors: int,
                     requests: int, seconds: float, good: bool) -> None:
    """Record what one platform's part of a cycle did."""
    POSTS.labels(platform).inc(posts)
    for category, n in flags.items():
        FLAGS.labels(platform, category).inc(n)
    ERRORS.labels(platform).inc(errors)
    REQUESTS.labels(platform).inc(requests)
    CYCLE_SECONDS.labels(platform).set(seconds)
    if good:
        now = time.time()
        LAST_GOOD.labels(platform).set(now)
        with _lock:
            _last_good[platform] = now


def observe_nudges(state: str, n: int) -> None:
    """Count nudges by state (planned, sent, failed, dead)."""
    if n:
        NUDGES.labels(state).inc(n)


def health() -> dict[str, Any]:
    """What /healthz reports: up, since when, last good cycle per platform."""
    with _lock:
        last = dict(_last_good)
    return {"status": "ok", "uptime_seconds": round(time.time() - _started, 1),
            "last_good_cycle": last}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body = generate_latest(REGISTRY)
            self._send(200, body, CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._send(200, json.dumps(health()).encode(), "application/json")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every few seconds would drown the log


class MetricsServer:
    """Serves /metrics and /healthz on a background thread; ``port`` 0 picks a free port."""

    def __init__(self, host: str, port: int):
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="metrics",
                                       daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> MetricsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
