"""The demo's story: twelve weeks of posts, draft checks and what people did, dated from now.

``demo_data/story.jsonl`` holds one event a line. Its time is ``day`` (days before today, a
negative number) and ``time`` (``HH:MM`` UTC), or ``hours_ago`` for today. An event is one of

- ``post``: a replay record as real users write it (a new post, an edit under the same id, or
  ``"deleted": true``); it is written to the demo's replay file with ``created_at`` set;
- ``draft``: a draft someone checks before posting (``platform``, ``text``);
- ``do``: what a person does: ``handled`` (an author's "I've handled it"), ``talked`` or ``ask``
  (a manager's buttons), ``confirm``, ``acknowledge``, ``dismiss``, ``finding`` (a per-finding
  verdict), ``hold`` (compliance on the dashboard), ``opt_out`` (an employee leaving in Slack).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from monitor.errors import InputError

VERBS = {
    "handled": ("post_id", "by"),
    "talked": ("post_id", "by"),
    "ask": ("post_id", "by"),
    "confirm": ("post_id", "reason"),
    "acknowledge": ("post_id", "reason"),
    "dismiss": ("post_id", "reason"),
    "finding": ("post_id", "source", "category", "verdict", "reason"),
    "hold": ("post_id", "reason"),
    "opt_out": ("by", "platform", "account"),
    "slack_off": ("by", "reason"),
}


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event of the story (``line`` is where it is in the file)."""

    at: datetime
    line: int
    kind: str  # post | draft | do
    data: dict[str, Any] = field(default_factory=dict)


def _when(rec: dict[str, Any], now: datetime, where: str) -> datetime:
    if "hours_ago" in rec:
        hours = rec["hours_ago"]
        if not isinstance(hours, int | float) or hours < 0:
            raise InputError(f"{where}: hours_ago must be a number of hours, not {hours!r}")
        return now - timedelta(hours=hours)
    day, hhmm = rec.get("day"), rec.get("time")
    if not isinstance(day, int) or day > -1:
        raise InputError(f"{where}: day must be a negative whole number (today: use hours_ago)")
    try:
        at = time.fromisoformat(str(hhmm))
    except ValueError:
        raise InputError(f"{where}: time must be HH:MM, not {hhmm!r}") from None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return datetime.combine((midnight + timedelta(days=day)).date(), at, tzinfo=now.tzinfo)


def load_story(path: Path, now: datetime) -> list[Event]:
    """Every event of the story, dated relative to ``now`` and in time order."""
    events: list[Event] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg})") from None
        at = _when(rec, now, where)
        if at > now:
            raise InputError(f"{where}: dated after now")
        if "post" in rec:
            events.append(Event(at, n, "post", dict(rec["post"])))
        elif "draft" in rec:
            events.append(Event(at, n, "draft", dict(rec["draft"])))
        elif "do" in rec:
            verb = rec["do"]
            if verb not in VERBS:
                raise InputError(f"{where}: unknown action {verb!r}")
            missing = [k for k in VERBS[verb] if not rec.get(k)]
            if missing:
                raise InputError(f"{where}: {verb} needs {', '.join(missing)}")
            events.append(Event(at, n, "do", dict(rec)))
        else:
            raise InputError(f"{where}: expected post, draft or do")
    return sorted(events, key=lambda e: (e.at, e.line))


class SimulatedClock:
    """A clock the demo moves forward by hand; it never runs backwards nor past ``end``."""

    def __init__(self, start: datetime, end: datetime):
        self.at = start
        self.end = end

    def __call__(self) -> datetime:
        return self.at

    def move_to(self, at: datetime) -> datetime:
        """Move to ``at`` (the future is refused: nothing is ever written after ``end``)."""
        if at > self.end:
            raise ValueError(f"the demo clock may not pass {self.end.isoformat()}")
        self.at = max(self.at, at)
        return self.at
