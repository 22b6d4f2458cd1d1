"""One collection cycle over 10,000 consented accounts against the fake platforms.

The fakes run in a child process and answer every request after 50 ms (the network), so
the CPU figures are the bot's own. The pipeline is the daemon's default one (rules and the
classifier). Prints wall time, CPU time, requests per account and peak memory, for the
first cycle (history) and the steady state (second cycle). Target: under 60 s per cycle on
a 2-core machine. BENCH_COLLECT_ACCOUNTS=2000 runs a smaller spread of accounts.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPREAD = {"bluesky": 3000, "mastodon": 3000, "rss": 2500, "reddit": 1000, "x": 500}
POSTS_PER_ACCOUNT = 2
LATENCY = 0.05


def _spread(total: int) -> dict[str, int]:
    """SPREAD scaled to ``total`` accounts (BENCH_COLLECT_ACCOUNTS, for quick profiling)."""
    full = sum(SPREAD.values())
    return {p: max(1, n * total // full) for p, n in SPREAD.items()}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _handle(platform: str, i: int) -> str:
    return {"bluesky": f"user{i}.bsky.social", "mastodon": f"user{i}", "rss": f"feeds/blog{i}.xml",
            "reddit": f"user{i}", "x": f"user{i}"}[platform]


def _serve(conn: Any, spread: dict[str, int]) -> None:
    from tests.fakes.bluesky_api import FakeBluesky
    from tests.fakes.mastodon_api import FakeMastodon
    from tests.fakes.reddit_api import FakeReddit
    from tests.fakes.rss_feed import FakeFeeds
    from tests.fakes.x_api import FakeX

    fakes = {"bluesky": FakeBluesky(latency=LATENCY, record=False),
             "mastodon": FakeMastodon(latency=LATENCY, record=False),
             "rss": FakeFeeds(latency=LATENCY, record=False),
             "reddit": FakeReddit(latency=LATENCY, record=False),
             "x": FakeX(latency=LATENCY, record=False)}
    for platform, n in spread.items():
        for i in range(n):
            h = _handle(platform, i).removeprefix("feeds/")
            for k in range(POSTS_PER_ACCOUNT):
                fakes[platform].add_post(h, f"post {k} by {h}: quarterly plans look good")
    conn.send({p: f.start().base_url for p, f in fakes.items()})
    conn.recv()  # wait for "stop"
    conn.send(({p: f.request_count for p, f in fakes.items()}, _cpu()))


def _seed(store: Any, spread: dict[str, int]) -> None:
    from sqlalchemy import insert

    from monitor.domain import utcnow
    from monitor.store.schema import AccountRow, ConsentRow, PersonRow

    now = utcnow()
    # Imported consents (an HR form) count as proof of ownership, where the store asks for it.
    verified = ({"verified_at": now, "verification_method": "hr_import"}
                if hasattr(AccountRow, "verified_at") else {})
    with store.session() as s:
        s.execute(insert(PersonRow), [{"id": i + 1, "email": f"p{i}@example.com", "name": f"P{i}",
                                       "team": "T", "timezone": "UTC"} for i in range(1000)])
        rows, consents, aid = [], [], 0
        for platform, n in spread.items():
            for i in range(n):
                aid += 1
                rows.append({"id": aid, "owner_id": aid % 1000 + 1, "platform": platform,
                             "handle": _handle(platform, i), "created_at": now, **verified})
                consents.append({"account_id": aid, "policy_version": "2026.1",
                                 "notice_hash": "0" * 64, "given_at": now, "reference": "bench"})
        s.execute(insert(AccountRow), rows)
        s.execute(insert(ConsentRow), consents)


def main() -> None:
    from monitor.collectors.registry import build_collectors
    from monitor.config import settings_from_dict
    from monitor.jobs.cycle import run_cycle
    from monitor.pipeline.factory import build_pipeline
    from monitor.store import Store
    from tests.fakes import reddit_api, x_api

    spread = _spread(int(os.environ.get("BENCH_COLLECT_ACCOUNTS", sum(SPREAD.values()))))
    total = sum(spread.values())
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=_serve, args=(child, spread), daemon=True)
    proc.start()
    urls = parent.recv()
    os.environ.update({"X_BEARER_TOKEN": x_api.TOKEN, "REDDIT_CLIENT_ID": reddit_api.CLIENT_ID,
                       "REDDIT_CLIENT_SECRET": reddit_api.CLIENT_SECRET})
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp
        url = f"sqlite:///{tmp}/bench.db"
        settings = settings_from_dict({
            "store": {"url": url},
            "model": {"enabled": True},
            "platforms": {
                "x": {"enabled": True, "base_url": urls["x"]},
                "reddit": {"enabled": True, "base_url": urls["reddit"],
                           "auth_url": urls["reddit"]},
                "bluesky": {"base_url": urls["bluesky"]},
                "mastodon": {"base_url": urls["mastodon"]},
                "rss": {"base_url": urls["rss"]},
            },
            "scheduler": {"collect_workers": 64, "worker_id": "bench"},
        })
        store = Store(url)
        _seed(store, spread)
        collectors = build_collectors(settings)
        pipeline = build_pipeline(settings)
        print(f"collect: {total} consented accounts ({', '.join(f'{p} {n}' for p, n in spread.items())}), "
              f"{LATENCY * 1000:.0f} ms latency per request, "
              f"{settings.scheduler.collect_workers} fetch threads; the fake servers run in a "
              f"separate process, so the CPU figures below are the bot's own")
        for label in ("first cycle (history)", "second cycle (steady state)"):
            t0, c0 = time.perf_counter(), _cpu()
            report = run_cycle(store, settings, pipeline, collectors)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            per = report.requests / max(1, report.accounts)
            load = os.getloadavg()[0]
            print(f"  {label}: {wall:.1f} s wall, {cpu:.1f} s CPU "
                  f"({cpu / max(1, report.accounts) * 1000:.2f} ms per account), "
                  f"load {load:.1f}, {report.accounts} accounts, "
                  f"{report.requests} requests ({per:.2f} per account), "
                  f"{report.posts_new} new posts, {len(report.skipped)} skipped, "
                  f"{total / wall:.0f} accounts/s; target < 60 s: "
                  f"{'met' if wall < 60 else 'MISSED'}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory (collector process RSS): {peak_mb:.0f} MB")
        store.dispose()
    parent.send("stop")
    served, fake_cpu = parent.recv()
    print(f"  requests served by the fakes: {sum(served.values())} "
          f"(their own process: {fake_cpu:.1f} s CPU over both cycles)")
    proc.terminate()


if __name__ == "__main__":
    main()
