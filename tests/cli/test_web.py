"""``socialguide web``: binds before its banner, then serves on the socket it bound."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _cfg(tmp_path: Path) -> Path:
    db = tmp_path / "socialguide.db"
    Store(f"sqlite:///{db}").dispose()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{db}"\n[model]\nenabled = false\n')
    return cfg


def test_busy_port_fails_in_one_line_before_the_banner(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = CliRunner().invoke(app, ["web", "--port", str(port), "-c", str(cfg)])
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use (another "
        "`socialguide web` or other server uses it; choose one with --port or [web] port)"]
    assert "dashboard on" not in res.output


def test_serves_on_the_port_it_names(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "web", "--port", "0", "-c",
                             str(cfg)], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 120
        banner = ""
        while time.monotonic() < deadline and "dashboard on" not in banner:
            banner = proc.stderr.readline()
            assert banner or proc.poll() is None, "web exited before its banner"
        m = re.search(r"dashboard on http://127\.0\.0\.1:(\d+)/", banner)
        assert m, banner
        port = int(m.group(1))
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert r.status_code == 200
        assert "csrf_token" in r.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
