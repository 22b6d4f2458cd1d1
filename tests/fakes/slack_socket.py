"""A fake Slack Socket Mode endpoint: a real WebSocket server on 127.0.0.1.

The fake Web API hands its URL out from ``apps.connections.open``. Each connection gets a
``hello``, then whatever envelopes the test queues (slash commands, interactivity, events);
every acknowledgement the app sends back is recorded by ``envelope_id``.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    """Serves Socket Mode sessions; ``send`` queues an envelope, ``wait_ack`` awaits its ack."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.unexpected: list[str] = []  # frames that were not acks (should stay empty)
        self._outbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server: Server | None = None

    # --- server ------------------------------------------------------------------------

    def __enter__(self) -> FakeSocketMode:
        # No keepalive pings from our side and no compression: the fake stays predictable.
        self._server = serve(self._session, "127.0.0.1", 0, compression=None,
                             ping_interval=None, open_timeout=5, close_timeout=1)
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="fake-slack-socket").start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "enter the fake first"
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=fake-ticket&app_id=A1"

    def _session(self, conn: ServerConnection) -> None:
        with self._changed:
            self.paths.append(conn.request.path if conn.request else "")
            self._changed.notify_all()
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                              "connection_info": {"app_id": "A1"}}))
        try:
            while not self._stopping.is_set():
                try:
                    conn.send(json.dumps(self._outbox.get_nowait()))
                except queue.Empty:
                    pass
                try:
                    raw = conn.recv(timeout=0.05)
                except TimeoutError:
                    continue
                self._record(raw)
        except ConnectionClosed:
            return

    def _record(self, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            msg = None
        with self._changed:
            if isinstance(msg, dict) and msg.get("envelope_id"):
                self.acks[str(msg["envelope_id"])] = msg
            else:
                self.unexpected.append(str(raw)[:200])
            self._changed.notify_all()

    # --- the test's side ---------------------------------------------------------------

    def wait_connected(self, timeout: float) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self.paths), timeout):
                raise TimeoutError("the app never opened a Socket Mode connection")

    def send(self, kind: str, payload: dict[str, Any], *,
             accepts_response_payload: bool = True) -> str:
        """Queue an envelope (``slash_commands``, ``interactive``, ``events_api``)."""
        envelope_id = f"env-{next(self._ids)}"
        self._outbox.put({"envelope_id": envelope_id, "type": kind, "payload": payload,
                          "accepts_response_payload": accepts_response_payload,
                          "retry_attempt": 0, "retry_reason": ""})
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for {envelope_id}")
            return self.acks[envelope_id]
