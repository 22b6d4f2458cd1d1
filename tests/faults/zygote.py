"""Forks ``socialguide`` commands from one warmed-up process, so fault tests can start (and
SIGKILL) many real processes without paying the imports each time.

Protocol (JSON lines): the zygote prints ``{"ready": true}`` once warm; for each request
``{"args": [...], "log": PATH, "fsize": BYTES or null}`` it forks a child that runs
``socialguide ARGS`` (the real CLI) with stdout and stderr in ``log`` and, if ``fsize`` is
set, a file-size limit (a full disk for files that grow past it), prints ``{"pid": PID}``,
then ``{"pid": PID, "status": CODE}`` once the child ended (a negative code is the signal
that ended it). The zygote is single-threaded, so forking it is safe.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys


def _warm() -> None:
    from monitor.cli import app  # noqa: F401 (imports everything the commands need)
    from monitor.collectors.registry import build_collectors
    from monitor.config import settings_from_dict
    from monitor.pipeline.factory import build_pipeline

    settings = settings_from_dict({"model": {"enabled": False}}, source="zygote")
    build_pipeline(settings)
    build_collectors(settings)
    import monitor.slack.notifier  # noqa: F401


def _child(args: list[str], log: str, fsize: int | None) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    code = 1
    try:
        if fsize is not None:
            # Past the limit a write fails with EFBIG instead of killing the process.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        from monitor.cli import app

        app(args, prog_name="socialguide")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    _warm()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req["args"], req["log"], req.get("fsize"))
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"pid": pid, "status": code}), flush=True)


if __name__ == "__main__":
    main()
