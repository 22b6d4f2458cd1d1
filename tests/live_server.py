"""The dashboard served by a real uvicorn on 127.0.0.1, for tests that need real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from monitor.config import Settings
from monitor.store import Store
from monitor.web import create_app
from tests.factories import PASSWORD
from tests.web_support import CSRF


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings, store: Store) -> Iterator[str]:
    """Serve the dashboard until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port,
                            log_level="critical")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def signed_in(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """An httpx client with a dashboard session."""
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=10)
    m = CSRF.search(c.get("/login").text)
    assert m, "no CSRF token on /login"
    r = c.post("/login", data={"username": username, "password": password,
                               "csrf_token": m.group(1), "next": "/flags"})
    assert r.status_code == 303, r.text
    return c
