"""``POST /api/v1/check``: answer time on one core, and 50 concurrent clients with memory watched.

The dashboard runs as a real ``socialguide web`` process pinned to one CPU (one thread for
BLAS and onnxruntime) with the default pipeline (rules, first stage and policy model); the clients run in this process on 127.0.0.1. Drafts are cut from
the TweetEval validation tweets (280 and 10,000 characters, a key or a phone number in some).

Run: ``python -m bench.bench_check``. ``BENCH_CHECK_N`` sets the sequential requests per size
(default 200), ``BENCH_CHECK_CLIENTS`` the concurrent clients (50) and
``BENCH_CHECK_ROUNDS`` the load rounds (3, each client sending 10 drafts per round).
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from monitor.store import Store
from monitor.store.api_tokens import add_token

ROOT = Path(__file__).resolve().parent.parent
TWEETS = ROOT / "data" / "tweeteval-offensive" / "val_text.txt"
EXTRAS = [" my key AKIAUJZDE8GXD6NCF10E", " call Jane on +1 415 555 0100", "", "", ""]


def drafts(size: int, n: int, seed: int = 11) -> list[str]:
    """``n`` drafts of exactly ``size`` characters made of real tweets (some with a secret)."""
    lines = [x.strip() for x in TWEETS.read_text(encoding="utf-8").splitlines() if x.strip()]
    rnd = random.Random(seed + size)
    out = []
    for _ in range(n):
        extra = rnd.choice(EXTRAS)
        parts: list[str] = []
        length = len(extra)
        while length < size:
            line = rnd.choice(lines)
            parts.append(line)
            length += len(line) + 1
        text = " ".join(parts)[: size - len(extra)] + extra
        out.append(text)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    db = tmp / "bench.db"
    cfg = tmp / "config.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{db}"\n[check]\nrate_per_minute = 1000000\n'
                   '[log]\nlevel = "WARNING"\n', encoding="utf-8")
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        _, token = add_token(s, "bench")
    store.dispose()
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "SOCIALGUIDE_WEB_SECRET": "bench-secret-" + "x" * 32,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cpu = sorted(os.sched_getaffinity(0))[-1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "web", "--config", str(cfg), "--port", str(port)],
        env=env, cwd=str(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    return proc, f"http://127.0.0.1:{port}", token


def _wait_ready(base: str, token: str, proc: subprocess.Popen[bytes]) -> float:
    """Seconds until the first check answers (process start, pipeline build included)."""
    t = time.perf_counter()
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"socialguide web exited: {err[-2000:]}")
        try:
            r = httpx.post(f"{base}/api/v1/check", json={"text": "warming up"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=300)
            if r.status_code == 200:
                return time.perf_counter() - t
        except httpx.TransportError:
            pass
        time.sleep(0.25)


def _sequential(base: str, token: str, texts: list[str]) -> list[float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as c:
        for text in texts[:5]:  # warm this size's code paths
            c.post("/api/v1/check", json={"text": text})
        for text in texts:
            t = time.perf_counter()
            r = c.post("/api/v1/check", json={"text": text})
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
    return times


def _load(base: str, token: str, clients: int, per_client: int, texts: list[str]
          ) -> tuple[list[float], dict[int, int], float]:
    times: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=300) as c:
            barrier.wait()
            for k in range(per_client):
                text = texts[(i * per_client + k) % len(texts)]
                t = time.perf_counter()
                try:
                    code = c.post("/api/v1/check", json={"text": text}).status_code
                except httpx.HTTPError:
                    code = -1
                with lock:
                    times.append((time.perf_counter() - t) * 1000)
                    statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return times, statuses, time.perf_counter() - t


def main() -> None:
    n = int(os.environ.get("BENCH_CHECK_N", "200"))
    clients = int(os.environ.get("BENCH_CHECK_CLIENTS", "50"))
    rounds = int(os.environ.get("BENCH_CHECK_ROUNDS", "3"))
    with tempfile.TemporaryDirectory() as tmpdir:
        proc, base, token = _start_server(Path(tmpdir))
        try:
            ready = _wait_ready(base, token, proc)
            server = psutil.Process(proc.pid)
            print(f"draft check API bench: socialguide web pinned to CPU "
                  f"{sorted(server.cpu_affinity())}, default pipeline; first answer "
                  f"{ready:.1f} s after start; RSS {server.memory_info().rss / 2**20:.0f} MB")
            for size, target in ((280, 300.0), (10_000, 1000.0)):
                times = _sequential(base, token, drafts(size, n))
                p95 = _pct(times, 95)
                print(f"  {size:>6,}-char drafts, {n} sequential: p50 {_pct(times, 50):6.1f} ms"
                      f"  p95 {p95:6.1f} ms  p99 {_pct(times, 99):6.1f} ms  max "
                      f"{max(times):6.1f} ms  (target p95 <= {target:.0f} ms: "
                      f"{'met' if p95 <= target else 'MISSED'})")
            texts = drafts(280, 500, seed=5)
            rss = [server.memory_info().rss]
            print(f"  load: {clients} concurrent clients x 10 drafts of 280 chars per round")
            for r in range(1, rounds + 1):
                peak = [rss[-1]]
                stop = threading.Event()

                def watch(peak: list[int] = peak, stop: threading.Event = stop) -> None:
                    while not stop.wait(0.2):
                        peak.append(server.memory_info().rss)

                w = threading.Thread(target=watch)
                w.start()
                times, statuses, took = _load(base, token, clients, 10, texts)
                stop.set()
                w.join()
                rss.append(server.memory_info().rss)
                print(f"    round {r}: {len(times)} requests in {took:5.1f} s "
                      f"({len(times) / took:5.1f}/s), statuses {dict(sorted(statuses.items()))}, "
                      f"p50 {_pct(times, 50):7.1f} ms  p95 {_pct(times, 95):7.1f} ms; RSS after "
                      f"{rss[-1] / 2**20:.0f} MB (peak {max(peak) / 2**20:.0f} MB)")
            growth = (rss[-1] - rss[1]) / 2**20
            print(f"  RSS before load {rss[0] / 2**20:.0f} MB; after round 1 "
                  f"{rss[1] / 2**20:.0f} MB; after round {rounds} {rss[-1] / 2**20:.0f} MB "
                  f"({growth:+.0f} MB from round 1 to {rounds}); median check "
                  f"{statistics.median(times):.0f} ms under load")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
