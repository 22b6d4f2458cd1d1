"""Slack answering 429, 500 and too slowly, in bursts, while the outbox delivers."""

from __future__ import annotations

import time

from monitor.domain import utcnow
from tests.faults.harness import FaultWorld, assert_invariants, open_nudges, slack_keys


def test_bursts_of_slack_faults_deliver_every_nudge_exactly_once(world: FaultWorld) -> None:
    world.populate(accounts=2, posts=4)
    now = utcnow()
    report = world.cycle(now)
    planned = report.nudges_planned
    assert planned >= 12
    fake = world.slack.fake
    # Short rate limits (waited out in place), server errors, answers slower than the
    # client's timeout (Slack did post: a retry must find it, not post again), long rate
    # limits (rescheduled in the outbox), and a burst on every method at once.
    fake.fail("chat.postMessage", times=3, status=429, retry_after=1)
    fake.fail("conversations.open", times=2, status=500)
    fake.fail("chat.postMessage", times=2, delay=0.8)
    first = world.deliver(now)
    assert first.sent < planned and first.dead == 0
    time.sleep(1.0)  # the slow answers land on Slack's side, as they would before a retry
    fake.fail("*", times=4, status=429, retry_after=120)
    fake.fail("chat.postMessage", times=3, status=500)
    fake.fail("chat.postMessage", times=2, delay=0.8)
    world.drain(now)
    assert open_nudges(world.store) == 0
    assert sum(slack_keys(world).values()) == planned
    # A timed-out post was found again by its idempotency key rather than posted twice.
    assert fake.calls_to("conversations.history")
    assert_invariants(world)
