"""A fake Slack Web API on 127.0.0.1: records every call and fails on request.

The real ``slack_sdk.WebClient`` talks to it through ``base_url``. It keeps just enough state
(users, DM channels, messages with metadata, published views) for the bot's calls, and a
queue of injected failures per method: HTTP 429 with Retry-After, HTTP 500, slow answers
(client timeouts) and ``ok: false`` errors.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    authorization: str | None


@dataclass
class Failure:
    """What to do instead of answering normally."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0  # sleep first, then answer normally (the client may have timed out)


@dataclass
class FakeSlack:
    """State and failure plan of the fake workspace."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    views: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    deleted_channels: set[str] = field(default_factory=set)
    revoked: bool = False
    # What ``apps.connections.open`` hands out (a FakeSocketMode URL); None refuses it.
    socket_url: str | None = None
    # Scopes reported in every answer's ``x-oauth-scopes`` header (None: no header).
    scopes: list[str] | None = None
    # Channels for ``conversations.info``: id -> {"name": ..., "is_member": ...}.
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up -------------------------------------------------------------------------

    def add_user(self, user_id: str, email: str, tz: str = "UTC", deleted: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "deleted": deleted, "tz": tz,
                               "profile": {"email": email}}

    def fail(self, method: str, times: int = 1, **kwargs: Any) -> None:
        """Make the next ``times`` calls of ``method`` ("*" for any) fail as described."""
        self.failures.setdefault(method, []).extend(Failure(**kwargs) for _ in range(times))

    # --- inspection ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted (all channels, or one), oldest first."""
        chans = [channel] if channel else list(self.messages)
        return [m for c in chans for m in self.messages.get(c, [])]

    # --- the API ------------------------------------------------------------------------

    def handle(self, method: str, p: dict[str, Any], auth: str | None) -> tuple[int, dict, dict]:
        with self._lock:
            self.calls.append(Call(method, p, auth))
            queue = self.failures.get(method) or self.failures.get("*")
            failure = queue.pop(0) if queue else None
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            elif failure.status == 429:
                return 429, {"Retry-After": str(failure.retry_after or 1)}, {
                    "ok": False, "error": "ratelimited"}
            elif failure.status != 200:
                return failure.status, {}, {"ok": False, "error": "internal_error"}
            else:
                return 200, {}, {"ok": False, "error": failure.error or "unknown_error"}
        if self.revoked:
            return 200, {}, {"ok": False, "error": "token_revoked"}
        fn = getattr(self, "api_" + method.replace(".", "_"), None)
        with self._lock:
            body = fn(p) if fn else {"ok": True}
        headers = {"x-oauth-scopes": ",".join(self.scopes)} if self.scopes is not None else {}
        return 200, headers, body

    def _user(self, uid: str) -> dict[str, Any] | None:
        return self.users.get(uid)

    def api_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}

    def api_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_url}

    def api_users_lookupByEmail(self, p: dict[str, Any]) -> dict[str, Any]:
        for u in self.users.values():
            if u["profile"]["email"].lower() == str(p.get("email", "")).lower():
                return {"ok": True, "user": u}
        return {"ok": False, "error": "users_not_found"}

    def api_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        u = self._user(str(p.get("user")))
        return {"ok": True, "user": u} if u else {"ok": False, "error": "user_not_found"}

    def api_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        members = list(self.users.values())
        start, limit = int(p.get("cursor") or 0), int(p.get("limit") or 100)
        page = members[start:start + limit]
        nxt = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": nxt}}

    def api_conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(p.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": p.get("channel"), **channel}}

    def api_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        uid = str(p.get("users", "")).split(",")[0]
        u = self._user(uid)
        if u is None:
            return {"ok": False, "error": "user_not_found"}
        if u["deleted"]:
            return {"ok": False, "error": "user_disabled"}
        return {"ok": True, "channel": {"id": "D" + uid}}

    def api_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel", ""))
        if channel in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        metadata = p.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        ts = f"1700000000.{next(self._ts):06d}"
        msg = {"type": "message", "ts": ts, "bot_id": "BBOT", "text": p.get("text", ""),
               "blocks": p.get("blocks"), "metadata": metadata}
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def api_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        for m in self.messages.get(str(p.get("channel")), []):
            if m["ts"] == p.get("ts"):
                m["text"], m["blocks"] = p.get("text", ""), p.get("blocks")
                return {"ok": True, "ts": m["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def api_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel", ""))
        if channel in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(p.get("oldest") or 0)
        with_meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        out = []
        for m in reversed(self.messages.get(channel, [])):
            if float(m["ts"]) < oldest:
                continue
            item = {k: v for k, v in m.items() if k != "metadata"}
            if with_meta and m.get("metadata"):
                item["metadata"] = m["metadata"]
            out.append(item)
        limit = int(p.get("limit") or 100)
        return {"ok": True, "messages": out[:limit], "has_more": len(out) > limit}

    def _view(self, p: dict[str, Any], kind: str) -> dict[str, Any]:
        view = p.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        self.views.append({"kind": kind, "user_id": p.get("user_id"), "view": view,
                           "trigger_id": p.get("trigger_id")})
        return {"ok": True, "view": {"id": f"V{len(self.views)}", **(view or {})}}

    def api_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._view(p, "open")

    def api_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._view(p, "publish")

    def api_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._view(p, "update")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            params = json.loads(raw or "{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw).items()}
        method = self.path.rstrip("/").rsplit("/", 1)[-1]
        status, headers, body = self.server.fake.handle(
            method, params, self.headers.get("Authorization"))
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout we injected)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlackServer:
    """Runs a :class:`FakeSlack` on 127.0.0.1 on a free port; use as a context manager."""

    def __init__(self, fake: FakeSlack | None = None):
        self.fake = fake or FakeSlack()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self.fake
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def reset(self) -> None:
        """Start over with an empty workspace (users, messages, calls, failures); keep serving."""
        self.fake = FakeSlack()
        self._server.fake = self.fake

    def __enter__(self) -> FakeSlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
