"""What every fake platform server shares: posts per account, a request log, failure switches.

Each fake is a real ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) that the real client
library talks to. Switches (``fail``) make the next requests — for one account or for all —
answer 429 with the platform's real headers, 5xx, slowly (client timeouts), or with
malformed JSON; ``latency`` delays every answer (the benchmark's network).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MODES = ("429", "500", "timeout", "malformed")


@dataclass
class FakePost:
    """A post as the fake platform holds it (newest first per account)."""

    id: str
    text: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    # X: ids of every version (an edit is a new id); Reddit: "t3" submission or "t1" comment.
    history: list[str] = field(default_factory=list)
    kind: str = "t3"


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    account: str | None


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class _Failure:
    mode: str
    account: str | None
    times: int


class FakePlatform:
    """Base of the per-platform fakes; subclasses implement ``route`` and ``account_of``."""

    name = "fake"

    def __init__(self, latency: float = 0.0, record: bool = True):
        self._init_kw: dict[str, Any] = {"latency": latency, "record": record}
        self.posts: dict[str, list[FakePost]] = {}
        self.requests: list[Seen] = []
        self.request_count = 0
        self.latency = latency
        self.slow_seconds = 1.5
        self.record = record
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self._clock = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.httpd: ThreadingHTTPServer | None = None
        # Called with each request as it arrives (fault tests act "mid-cycle" from here).
        self.on_request: Callable[[Seen], None] | None = None

    # --- data -----------------------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def tick(self) -> datetime:
        self._clock += timedelta(minutes=1)
        return self._clock

    def add_account(self, handle: str) -> None:
        self.posts.setdefault(handle.lower(), [])

    def add_post(self, handle: str, text: str, post_id: str | None = None,
                 kind: str = "t3") -> FakePost:
        pid = post_id or self.next_id()
        post = FakePost(id=pid, text=text, created_at=self.tick(), history=[pid], kind=kind)
        with self._lock:
            self.posts.setdefault(handle.lower(), []).insert(0, post)
        return post

    def find(self, handle: str, post_id: str) -> FakePost:
        for p in self.posts[handle.lower()]:
            if p.id == post_id:
                return p
        raise KeyError(post_id)

    def edit_post(self, handle: str, post_id: str, text: str) -> FakePost:
        post = self.find(handle, post_id)
        post.text = text
        post.edited_at = self.tick()
        return post

    def delete_post(self, handle: str, post_id: str) -> None:
        with self._lock:
            self.posts[handle.lower()] = [p for p in self.posts[handle.lower()]
                                          if p.id != post_id]

    def timeline(self, handle: str) -> list[FakePost] | None:
        return self.posts.get(handle.lower())

    # --- switches -------------------------------------------------------------------------

    def fail(self, mode: str, account: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` requests (for ``account``, or any) fail in ``mode``."""
        assert mode in MODES, mode
        with self._lock:
            self._failures.append(_Failure(mode, account.lower() if account else None, times))

    def requests_for(self, account: str) -> list[Seen]:
        return [r for r in self.requests if r.account == account.lower()]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_count = 0

    def _take_failure(self, account: str | None) -> str | None:
        with self._lock:
            for f in self._failures:
                if f.account is None or f.account == account:
                    f.times -= 1
                    if f.times <= 0:
                        self._failures.remove(f)
                    return f.mode
        return None

    # --- to implement ----------------------------------------------------------------------

    def account_of(self, path: str, query: dict[str, str]) -> str | None:
        return None

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> Answer:
        return Answer(404, {"error": "not found"})

    def rate_limit_headers(self) -> dict[str, str]:
        return {"Retry-After": "60"}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"HTTP {status}"}

    # --- server ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.httpd is not None, "start() the fake first"
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def netloc(self) -> str:
        return self.base_url.split("://", 1)[1]

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms), a stall no real server adds to ``latency``.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 1024
        # shutdown() waits for serve_forever's next poll: the default 0.5 s made every stop
        # cost up to half a second per fake.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name=f"fake-{self.name}").start()
        return self

    def reset(self) -> None:
        """Forget all a test did (posts, requests, failures, latency, hooks); keep serving.

        The state is rebuilt as a new fake would have it, so an attribute a test set or
        replaced (a subclass's too) cannot leak into the next test. A stopped server starts
        again, on a new port.
        """
        fresh = type(self).__new__(type(self))
        type(self).__init__(fresh, **self._init_kw)
        fresh.httpd = self.httpd
        # One assignment: a request still in flight sees the old state or the new, not half.
        self.__dict__ = fresh.__dict__
        if self.httpd is None:
            self.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        account = self.account_of(parts.path, query)
        seen = Seen(method, parts.path, query, headers, account)
        with self._lock:
            self.request_count += 1
            if self.record:
                self.requests.append(seen)
        if self.on_request is not None:
            self.on_request(seen)
        if self.latency:
            time.sleep(self.latency)
        mode = self._take_failure(account)
        if mode == "429":
            ans = Answer(429, self.error_body(429), self.rate_limit_headers())
        elif mode == "500":
            ans = Answer(503, self.error_body(503))
        elif mode == "malformed":
            ans = Answer(200, b'{"data": [{"id": "1", "text": ', content_type="application/json")
        else:
            if mode == "timeout":
                time.sleep(self.slow_seconds)
            try:
                ans = self.route(method, parts.path, query, headers, body)
            except Exception as exc:  # a bug in the fake: make it visible
                ans = Answer(500, {"error": f"fake crashed: {exc!r}"})
        payload = ans.body
        if isinstance(payload, dict | list):
            payload = json.dumps(payload).encode()
        elif isinstance(payload, str):
            payload = payload.encode()
        try:
            h.send_response(ans.status)
            if ans.status != 304:
                h.send_header("Content-Type", ans.content_type)
            h.send_header("Content-Length", str(len(payload)))
            for k, v in ans.headers.items():
                h.send_header(k, v)
            h.end_headers()
            if ans.status != 304:
                h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout switch)
