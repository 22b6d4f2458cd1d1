"""The embedded demo: a fictional company and twelve weeks of its history, told on a clock.

The real parts run end to end (store, replay collector, pipeline, flag log, planner, outbox,
the Slack buttons' and the dashboard's service functions) with a console notifier instead of
Slack, so a new user sees the whole product without credentials or network. A simulated
clock, which every part reads through :func:`monitor.domain.utcnow`, walks hour by hour from
the programme's launch twelve weeks ago to now: posts appear in a replay file when they were
posted, collection and delivery run on the hour, and people act when the story says they did.
Nothing is written with a time after now.
"""

from __future__ import annotations

import json
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from monitor import domain
from monitor.accounts.consent import disconnect
from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.collectors.registry import build_collectors
from monitor.compliance.queries import get_flag
from monitor.compliance.review import finding_verdict, review, set_legal_hold
from monitor.compliance.users import Viewer, add_user, viewer_of
from monitor.config import Settings, settings_from_dict
from monitor.demo.story import Event, SimulatedClock, load_story
from monitor.demo.summary import DemoSummary, every_flag, summarise
from monitor.errors import DeliveryError, SocialGuideError
from monitor.guidance.draft_check import DraftChecker
from monitor.guidance.notifier import ConsoleNotifier
from monitor.guidance.outbox import deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport, merge
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline
from monitor.resources import demo_dir
from monitor.slack.actions import author_press, manager_press
from monitor.store import Session, Store, repo
from monitor.store import accounts as account_sql
from monitor.store.posts import posts_by_id
from monitor.store.schema import NudgeRow, PersonRow
from monitor.store.users import user_by_username

ACTOR = "demo"
STORY_DAYS = 84  # twelve weeks
REPLAY_FILE = "posts.jsonl"
COMPLIANCE_USER = "compliance@northwind.example"
# One dashboard user per role: (role, sign-in name, the person they are, what they see).
DEMO_USERS = (
    ("compliance", COMPLIANCE_USER, None, "everything; reviews, legal holds, the shadow log"),
    ("manager", "sam.okafor@northwind.example", "sam.okafor@northwind.example",
     "the Sales team's flags"),
    ("employee", "casey.patel@northwind.example", "casey.patel@northwind.example",
     "her own flags"),
    ("auditor", "auditor@northwind.example", None, "everything, read-only; exports"),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A dashboard user of the demo; ``password`` only on the run that created it."""

    role: str
    username: str
    password: str | None
    sees: str


@dataclass
class DemoResult:
    """What a demo run did, and what the store holds after it."""

    db_path: Path
    now: datetime
    launch: datetime | None = None
    told: bool = False  # this run told the story (the first run)
    people: int = 0
    accounts_new: int = 0
    cycles: int = 0
    cycle: CycleReport = field(default_factory=CycleReport)
    sent: int = 0
    cancelled: int = 0
    actions: int = 0
    drafts: int = 0
    problems: list[str] = field(default_factory=list)
    users: list[DemoUser] = field(default_factory=list)
    summary: DemoSummary = field(default_factory=DemoSummary)


def demo_settings(folder: Path, overrides: dict[str, object] | None = None,
                  replay: Path | None = None) -> Settings:
    """The bundled demo config with the store in ``folder``; the replay file is ``replay``
    (default: the bundled sample week ``demo_data/posts.jsonl``, in the replay format)."""
    data = tomllib.loads((demo_dir() / "config.toml").read_text(encoding="utf-8"))
    db = (folder / "socialguide.db").resolve()
    data["store"] = {"url": f"sqlite:///{db}"}
    data.setdefault("platforms", {}).setdefault("replay", {})["path"] = str(
        replay or demo_dir() / "posts.jsonl"
    )
    for key, value in (overrides or {}).items():
        data[key] = value
    return settings_from_dict(data, source=str(demo_dir() / "config.toml"))


def _write_config(folder: Path, settings: Settings) -> None:
    """Leave a config beside the demo database so every other command can use it."""
    text = (demo_dir() / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///socialguide-demo/socialguide.db"',
                        f'url = "{settings.store.url}"')
    text = text.replace("[platforms.replay]\nenabled = true",
                        f'[platforms.replay]\nenabled = true\npath = "{settings.platforms.replay.path}"')
    (folder / "config.toml").write_text(text, encoding="utf-8")


def launch_time(now: datetime) -> datetime:
    """When the programme started: 08:00 UTC twelve weeks before today."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=STORY_DAYS) + timedelta(hours=8)


def run_demo(
    folder: Path, console: Console, now: datetime | None = None, store_url: str | None = None
) -> DemoResult:
    """Tell the story into ``folder``; a second run finds it there and adds nothing.

    ``store_url`` puts the demo's data in another database (e.g. PostgreSQL) instead of the
    SQLite file in ``folder``; that database is migrated first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    replay = (folder / REPLAY_FILE).resolve()
    settings = demo_settings(folder, {"store": {"url": store_url}} if store_url else None,
                             replay=replay)
    _write_config(folder, settings)
    store = Store(settings.store.url, auto_upgrade=True)
    now = now or domain.utcnow()
    result = DemoResult(db_path=folder / "socialguide.db", now=now)
    clock = SimulatedClock(launch_time(now), now)
    try:
        with domain.clock(clock), _wrapping(console):
            told_before = _story_in(store)
            if told_before is None:
                result.told = True
                result.launch = clock.at
                replay.write_text("", encoding="utf-8")
                _tell(store, settings, console, clock, result, replay)
            else:
                result.launch = told_before
                if not replay.exists():
                    replay.write_text("", encoding="utf-8")
                clock.move_to(now)
                result.users = _ensure_users(store)
                _catch_up(store, settings, console, clock, result)
            with store.session() as s:
                compliance = _compliance(s)
                result.summary = summarise(s, compliance, result.launch, now)
    finally:
        store.dispose()
    return result


def _story_in(store: Store) -> datetime | None:
    """When the story already in this store began (its first consent), or None."""
    rows, _ = read_accounts_csv(demo_dir() / "accounts.csv")
    with store.session() as s:
        for row in rows:
            acc = account_sql.account_by_handle(s, row.platform, row.handle)
            if acc is not None:
                consent = account_sql.latest_consent(s, acc.id)
                return consent.given_at if consent is not None else acc.created_at
    return None


def _load_org(store: Store, settings: Settings, result: DemoResult) -> None:
    people = read_people_csv(demo_dir() / "people.csv")
    with store.session() as s:
        check_managers(s, people, "people.csv")
        apply_people(s, people, actor=ACTOR)
    result.people = len(people.records)
    path = demo_dir() / "accounts.csv"
    rows, errors = read_accounts_csv(path)
    with store.session() as s:
        ready = check_accounts(s, rows, errors, str(path))
        if errors:
            raise errors[0]
        result.accounts_new, _ = apply_accounts(s, ready, settings, actor=ACTOR)


def _ensure_users(store: Store) -> list[DemoUser]:
    """One dashboard user per role, with a generated password the first time; never twice."""
    out: list[DemoUser] = []
    with store.session() as s:
        for role, username, person, sees in DEMO_USERS:
            if user_by_username(s, username) is not None:
                out.append(DemoUser(role, username, None, sees))
                continue
            password = secrets.token_urlsafe(12)
            add_user(s, username, role, password, person_email=person, actor=ACTOR)
            out.append(DemoUser(role, username, password, sees))
    return out


def _ticks(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every full hour after ``start`` up to ``end``, then ``end`` itself."""
    t = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while t < end:
        yield t
        t += timedelta(hours=1)
    yield end


class _Teller:
    """Plays the story's events on the clock and narrates them."""

    def __init__(self, store: Store, settings: Settings, console: Console,
                 clock: SimulatedClock, result: DemoResult, replay: IO[str],
                 pipeline: Pipeline):
        self.store, self.settings, self.console = store, settings, console
        self.clock, self.result, self.replay = clock, result, replay
        self.checker = DraftChecker(settings, pipeline_factory=lambda _: pipeline)
        self.dirty: set[str] = set()
        self.first_seen: dict[str, str] = {}
        # People whose Slack account is deactivated: Slack refuses every message to them.
        self.slack_off: dict[str, str] = {}

    def say(self, text: str) -> None:
        self.console.print(f"{self.clock():%a %d %b %H:%M}  {text}", markup=False,
                           highlight=False)

    def problem(self, event: Event, why: str) -> None:
        msg = f"story line {event.line} ({event.data.get('do', event.kind)}): {why}"
        self.result.problems.append(msg)
        self.say(f"! {msg}")

    def play(self, event: Event) -> None:
        self.clock.move_to(event.at)
        if event.kind == "post":
            self._post(event.data)
        elif event.kind == "draft":
            answer = self.checker.check(str(event.data["text"]), str(event.data["platform"]),
                                        store=self.store)
            self.result.drafts += 1
            found = ", ".join(answer.categories) or "nothing"
            self.say(f"someone checks a draft before posting: {found} found (only a count "
                     "is kept)")
        else:
            try:
                with self.store.session() as s:
                    self._act(s, event)
                self.result.actions += 1
            except (SocialGuideError, _StoryError) as exc:
                self.problem(event, str(exc))

    def _post(self, rec: dict[str, Any]) -> None:
        rec = dict(rec)
        if not rec.get("deleted"):
            at = self.clock().isoformat().replace("+00:00", "Z")
            rec["created_at"] = self.first_seen.setdefault(str(rec["id"]), at)
        self.replay.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.replay.flush()
        self.dirty.add(str(rec["platform"]))

    def tick(self, at: datetime, notifier: _DatedNotifier) -> None:
        self.clock.move_to(at)
        if self.dirty:
            # Built per cycle: the replay collector serves the platforms its file names so far.
            collectors = build_collectors(self.settings)
            rep = run_cycle(self.store, self.settings, self.checker.pipeline(), collectors,
                            now=at, platforms=sorted(self.dirty))
            self.dirty.clear()
            self.result.cycles += 1
            merge(self.result.cycle, rep)
            if rep.posts_new or rep.posts_edited or rep.posts_deleted:
                flagged = ", ".join(sorted(rep.flags)) or "nothing flagged"
                self.say(f"collected {rep.posts_new} new, {rep.posts_edited} edited, "
                         f"{rep.posts_deleted} deleted post(s): {flagged}"
                         + (f"; {rep.shadow_flags} to the shadow log" if rep.shadow_flags
                            else ""))
        delivery = deliver_due(self.store, notifier, self.settings, now=at)
        self.result.sent += delivery.sent
        self.result.cancelled += delivery.cancelled

    def _act(self, s: Session, event: Event) -> None:
        d = event.data
        verb = d["do"]
        if verb == "slack_off":
            person = _person(s, d["by"])
            self.slack_off[person.email] = d["reason"]
            self.say(f"{person.email}'s Slack account is deactivated ({d['reason']}); "
                     "nothing sent to them can arrive")
            return
        if verb == "opt_out":
            person = _person(s, d["by"])
            acc = account_sql.account_by_handle(s, d["platform"], d["account"])
            if acc is None:
                raise _StoryError(f"no {d['platform']} account {d['account']}")
            out = disconnect(s, person, acc.id, self.clock())
            self.say(f"{person.email} leaves the programme in Slack. {out.message}")
            return
        compliance = _compliance(s)
        fid = _flag_of(s, compliance, d["post_id"])
        if verb in ("handled", "talked", "ask"):
            person = _person(s, d["by"])
            press = author_press if verb == "handled" else manager_press
            out = press(s, person, fid, verb, self.settings, now=self.clock())
            if not out.changed:
                raise _StoryError(out.message)
            label = {"handled": "I've handled it", "talked": "Talked, all fine",
                     "ask": "Ask compliance"}[verb]
            self.say(f'{person.email} presses "{label}" on flag #{fid}: {out.message}')
        elif verb in ("confirm", "acknowledge", "dismiss"):
            action = "resolve" if verb == "confirm" else verb
            done = review(s, compliance, [fid], action, d.get("reason"))
            if not done.changed:
                raise _StoryError(done.skipped.get(fid, "nothing changed"))
            said = {"confirm": "confirms", "acknowledge": "acknowledges", "dismiss": "dismisses"}
            self.say(f"compliance {said[verb]} flag #{fid}: {d['reason']}")
        elif verb == "finding":
            flag = get_flag(s, compliance, fid)
            finding = next((f for f in flag.findings if f.source == d["source"]
                            and f.category == d["category"]), None)
            if finding is None:
                raise _StoryError(f"flag #{fid} has no {d['category']} finding by {d['source']}")
            finding_verdict(s, compliance, fid, finding.id, d["verdict"], d["reason"])
            self.say(f"compliance judges one finding of flag #{fid} ({d['source']}, "
                     f"{d['category']}{', shadow' if finding.shadow else ''}): "
                     f"{d['verdict'].replace('_', ' ')}. {d['reason']}")
        elif verb == "hold":
            set_legal_hold(s, compliance, fid, True, d["reason"])
            self.say(f"compliance puts flag #{fid} on legal hold: {d['reason']}")


class _StoryError(Exception):
    """A story event that did not happen as written (the story and the product disagree)."""


def _person(s: Session, email: str) -> PersonRow:
    person = repo.person_by_email(s, email)
    if person is None:
        raise _StoryError(f"no person {email}")
    return person


def _compliance(s: Session) -> Viewer:
    user = user_by_username(s, COMPLIANCE_USER)
    if user is None:
        raise _StoryError(f"no dashboard user {COMPLIANCE_USER}")
    return viewer_of(user)


def _flag_of(s: Session, viewer: Viewer, post_id: str) -> int:
    """The newest flag on the post with this platform id, as the flag log lists it."""
    for flag in every_flag(s, viewer):
        post = posts_by_id(s, [flag.post_id]).get(flag.post_id) if flag.post_id else None
        if post is not None and post.post_id == post_id:
            return flag.id
    raise _StoryError(f"no flag on post {post_id}")


class _DatedNotifier(ConsoleNotifier):
    """The console notifier, with when each nudge went and what it is."""

    def __init__(self, console: Console, teller: _Teller | None, grace_hours: float):
        super().__init__(console)
        self.teller = teller
        self.grace = grace_hours

    def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
        what = {"author_nudge": "a private nudge to the author",
                "urgent": "an urgent private nudge to the author",
                "coaching": f"a coaching note to the manager ({self.grace:g} h after the "
                            "author was told, the flag still open)"}.get(nudge.kind, nudge.kind)
        teller = self.teller
        if teller is not None and recipient is not None and recipient.email in teller.slack_off:
            # What Slack answers for a deactivated user: permanent, so the outbox dead-letters
            # the nudge at once and the report lists it for an operator.
            teller.say(f"flag #{nudge.flag_id}: {what} cannot be delivered: Slack "
                            f"answers account_inactive for {recipient.email}; dead-lettered")
            raise DeliveryError("Slack: account_inactive (the recipient's account is "
                                "deactivated)", permanent=True)
        if self.teller is not None:
            self.teller.say(f"flag #{nudge.flag_id}: {what}")
        return super().send(nudge, recipient)


def _tell(store: Store, settings: Settings, console: Console, clock: SimulatedClock,
          result: DemoResult, replay: Path) -> None:
    console.print(f"{clock():%a %d %b %Y}: Northwind Labs launches its social media "
                  "programme: people, opted-in accounts and dashboard users are imported.",
                  markup=False)
    _load_org(store, settings, result)
    result.users = _ensure_users(store)
    events = load_story(demo_dir() / "story.jsonl", result.now)
    pipeline = build_pipeline(settings)
    with replay.open("a", encoding="utf-8") as fh:
        teller = _Teller(store, settings, console, clock, result, fh, pipeline)
        notifier = _DatedNotifier(console, teller, settings.guidance.grace_hours)
        i = 0
        week = ""
        for tick in _ticks(clock(), result.now):
            while i < len(events) and events[i].at <= tick:
                week = _week_rule(console, events[i].at, week)
                teller.play(events[i])
                i += 1
            teller.tick(tick, notifier)


def _week_rule(console: Console, at: datetime, shown: str) -> str:
    monday = (at - timedelta(days=at.weekday())).date()
    if monday.isoformat() != shown:
        console.rule(f"Week of {monday:%a %d %b %Y}")
    return monday.isoformat()


def _catch_up(store: Store, settings: Settings, console: Console, clock: SimulatedClock,
              result: DemoResult) -> None:
    """A later run: one collection cycle and one delivery now (both normally find nothing)."""
    console.rule("The story is already in this store: one more cycle, now")
    rep = run_cycle(store, settings, build_pipeline(settings), build_collectors(settings),
                    now=clock())
    result.cycles += 1
    merge(result.cycle, rep)
    delivery = deliver_due(store, _DatedNotifier(console, None, settings.guidance.grace_hours),
                           settings, now=clock())
    result.sent += delivery.sent
    result.cancelled += delivery.cancelled


@contextmanager
def _wrapping(console: Console) -> Iterator[None]:
    """Nudge panels wrap their lines even on a console that soft-wraps (which would cut them)."""
    before = console.soft_wrap
    console.soft_wrap = False
    try:
        yield
    finally:
        console.soft_wrap = before
