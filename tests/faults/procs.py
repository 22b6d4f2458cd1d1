"""Real ``socialguide`` processes for the fault tests: exec'd, or forked from a warm zygote."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.faults.harness import ENV

ROOT = Path(__file__).resolve().parents[2]


def child_env(home: Path) -> dict[str, str]:
    """The environment a ``socialguide`` child needs: tokens by name, this checkout first."""
    env = {**os.environ, **ENV, "HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def socialguide_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m monitor``."""
    script = Path(sys.executable).with_name("socialguide")
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


class Zygote:
    """Client of ``tests/faults/zygote.py``: start a command, kill it, read how it ended."""

    def __init__(self, cwd: Path, startup_timeout: float = 300.0):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.zygote"], cwd=cwd, env=child_env(cwd),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._next(startup_timeout)
        assert ready == {"ready": True}, ready

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))

    def _next(self, timeout: float | None) -> dict[str, Any]:
        return self._lines.get(timeout=timeout)

    def start(self, args: list[str], log: Path, fsize: int | None = None) -> int:
        """Fork a child running ``socialguide ARGS``; return its PID."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"args": args, "log": str(log), "fsize": fsize}) + "\n")
        self.proc.stdin.flush()
        return int(self._next(60)["pid"])

    def wait(self, timeout: float | None) -> int | None:
        """The child's exit status (negative: the signal), or None if still running."""
        try:
            return int(self._next(timeout)["status"])
        except queue.Empty:
            return None

    def run(self, args: list[str], log: Path, fsize: int | None = None,
            timeout: float = 300.0) -> int:
        self.start(args, log, fsize)
        status = self.wait(timeout)
        assert status is not None, f"socialguide {' '.join(args)} did not end; see {log}"
        return status

    def close(self) -> None:
        # Its children have all ended; nothing of the zygote's own needs a clean exit.
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait(30)
