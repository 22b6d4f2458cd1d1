"""Typed settings loaded from TOML.

Every section forbids unknown keys so that a typo is an error naming the key, not a setting
silently ignored. Secrets never live here: the config names environment variables and
:func:`secret` reads them at the moment of use.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.domain import CATEGORIES
from monitor.errors import ConfigError

DEFAULT_CONFIG_NAME = "config.toml"


class Section(BaseModel):
    """Base for every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class StoreSettings(Section):
    url: str = "sqlite:///socialguide.db"
    echo: bool = False
    # Credential spans in stored post text, excerpts and evidence are masked (``AKIA••••B3TD``).
    # Set false to keep them in clear at rest (compliance then reveals from the post text).
    mask_credentials: bool = True
    # Environment variable with the key that seals a credential for compliance's reveal and
    # keys its fingerprint; without it nothing is sealed and reveal has nothing to show.
    secret_key_env: str = "SOCIALGUIDE_SECRET_KEY"


class ConfidentialTerms(Section):
    terms: list[str] = Field(default_factory=list)
    customers_under_nda: list[str] = Field(default_factory=list)


class DisparagementTerms(Section):
    competitors: list[str] = Field(default_factory=list)
    customers: list[str] = Field(default_factory=list)


class PolicySettings(Section):
    version: str = "2026.1"
    url: str = "https://intranet.example/social-media-policy"
    company_names: list[str] = Field(default_factory=list)
    disclaimers: list[str] = Field(
        default_factory=lambda: ["views are my own", "not speaking for my employer"]
    )
    confidential: ConfidentialTerms = Field(default_factory=ConfidentialTerms)
    disparagement: DisparagementTerms = Field(default_factory=DisparagementTerms)
    # The company's own published contacts (press and support addresses, phone lines, the
    # office address): sharing them is not personal data.
    published_contacts: list[str] = Field(default_factory=list)


class RulesSettings(Section):
    # Extra rule folders or files, read after the bundled packs ("" entries are ignored).
    paths: list[str] = Field(default_factory=list)
    # Replace the bundled packs instead of adding to them.
    replace_bundled: bool = False
    # Rule ids switched off without editing the pack.
    disabled: list[str] = Field(default_factory=list)


class ModelSettings(Section):
    enabled: bool = True
    # Folder holding the model artifacts; empty means the bundled ``models/``.
    dir: str = ""
    # Per-category overrides of the thresholds the model chose on its validation batches
    # (models/MODEL_CARD.md); a category not named keeps the model's own.
    # Probability at or above which the model alone makes an actionable finding.
    thresholds: dict[str, float] = Field(default_factory=dict)
    # Probability at or above which a rule match of the category stays actionable (below it,
    # the context reads as harmless and the match goes to the shadow log).
    confirm_thresholds: dict[str, float] = Field(default_factory=dict)
    # Probability at or above which a model finding is kept in the shadow log.
    shadow_thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("thresholds", "confirm_thresholds", "shadow_thresholds")
    @classmethod
    def _known_categories(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            if k not in CATEGORIES:
                raise ValueError(f"unknown category '{k}' (expected one of {', '.join(CATEGORIES)})")
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"threshold for '{k}' must be between 0 and 1, got {p}")
        return v


class DecisionSettings(Section):
    # Minimum finding score per category for a flag; categories not named use ``default``.
    min_score: dict[str, float] = Field(default_factory=dict)
    default_min_score: float = 0.5


class PlatformSettings(Section):
    enabled: bool = True
    base_url: str = ""
    # Minutes between collection cycles for this platform (jittered).
    interval_minutes: int = Field(default=30, ge=1)
    timeout_seconds: float = Field(default=20.0, gt=0)
    # Most posts read per account per cycle.
    max_posts_per_account: int = Field(default=100, ge=1)


class XSettings(PlatformSettings):
    enabled: bool = False
    base_url: str = "https://api.x.com"
    bearer_token_env: str = "X_BEARER_TOKEN"
    # X bills per post read: stop a cycle once this many reads are spent.
    max_reads_per_cycle: int = Field(default=2000, ge=0)


class RedditSettings(PlatformSettings):
    enabled: bool = False
    base_url: str = "https://oauth.reddit.com"
    auth_url: str = "https://www.reddit.com"
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent: str = "socialguide/0.1 (policy guidance bot)"


class BlueskySettings(PlatformSettings):
    base_url: str = "https://public.api.bsky.app"


class MastodonSettings(PlatformSettings):
    # Accounts carry their own instance (user@instance); this is the fallback instance.
    base_url: str = "https://mastodon.social"


class RssSettings(PlatformSettings):
    base_url: str = ""


class ReplaySettings(PlatformSettings):
    enabled: bool = False
    # JSONL file of posts (DESIGN.md scan input format plus ``account``) read as one platform.
    path: str = ""


class PlatformsSettings(Section):
    x: XSettings = Field(default_factory=XSettings)
    reddit: RedditSettings = Field(default_factory=RedditSettings)
    bluesky: BlueskySettings = Field(default_factory=BlueskySettings)
    mastodon: MastodonSettings = Field(default_factory=MastodonSettings)
    rss: RssSettings = Field(default_factory=RssSettings)
    replay: ReplaySettings = Field(default_factory=ReplaySettings)


class SlackSettings(Section):
    enabled: bool = False
    base_url: str = "https://slack.com/api/"
    bot_token_env: str = "SLACK_BOT_TOKEN"
    app_token_env: str = "SLACK_APP_TOKEN"
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    # "socket" needs no public URL; "http" serves the Events API with signature checks.
    mode: Literal["socket", "http"] = "socket"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=3000, ge=1, le=65535)
    # Channels (ids) that hear about urgent findings and escalations.
    compliance_channel: str = ""
    security_channel: str = ""
    # Seconds to wait for one Slack API answer before the outbox retries later.
    timeout_seconds: float = Field(default=10.0, gt=0)
    # A 429 whose Retry-After is at most this is waited out in-process; longer ones are
    # rescheduled in the outbox.
    rate_limit_max_wait_seconds: float = Field(default=5.0, ge=0)


class QuietHours(Section):
    # Local time of the recipient, "HH:MM"; a window may wrap midnight.
    start: str = "19:00"
    end: str = "08:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            h, m = v.split(":")
            if not (0 <= int(h) < 24 and 0 <= int(m) < 60):
                raise ValueError
        except ValueError:
            raise ValueError(f"expected a time as HH:MM, got '{v}'") from None
        return v


class GuidanceSettings(Section):
    # Hours the author has to resolve a flag before the manager hears of it.
    grace_hours: float = Field(default=24.0, ge=0)
    # Categories whose authors are told at once, with security/compliance in copy.
    urgent_categories: list[str] = Field(default_factory=lambda: ["credentials"])
    # Most nudges one person receives in a week (urgent ones are always sent).
    weekly_budget: int = Field(default=3, ge=0)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    training_url: str = "https://intranet.example/training/social-media"
    # Per-category training links; categories not named use ``training_url``.
    training_links: dict[str, str] = Field(default_factory=dict)
    # Categories for which digests may quote raw post text and names (default: none).
    raw_text_in_digests: list[str] = Field(default_factory=list)
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    # Delivery attempts before a nudge is dead-lettered.
    max_attempts: int = Field(default=6, ge=1)
    default_timezone: str = "UTC"

    @field_validator("urgent_categories", "raw_text_in_digests")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in CATEGORIES]
        if bad:
            raise ValueError(f"unknown categories {bad} (expected {', '.join(CATEGORIES)})")
        return v


class RetentionSettings(Section):
    # Days a post's text and its flags' text are kept; categories may differ.
    default_days: int = Field(default=365, ge=1)
    days: dict[str, int] = Field(default_factory=dict)


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Environment variable holding the session-signing key.
    secret_key_env: str = "SOCIALGUIDE_WEB_SECRET"
    # Set when served behind https so cookies carry the Secure attribute.
    secure_cookies: bool = False
    session_hours: float = Field(default=8.0, gt=0)
    oidc_issuer: str = ""
    oidc_client_id_env: str = "SOCIALGUIDE_OIDC_CLIENT_ID"
    oidc_client_secret_env: str = "SOCIALGUIDE_OIDC_CLIENT_SECRET"
    # Public URL of /auth/oidc/callback; empty: derived from the request.
    oidc_redirect_url: str = ""


class CheckSettings(Section):
    """Checking a draft before posting (Slack, the dashboard page, ``POST /api/v1/check``)."""

    # Longest draft accepted, in characters; a longer one is refused naming the limit.
    max_chars: int = Field(default=40_000, ge=1, le=1_000_000)
    # Requests per minute per integration token on the API (a short burst may use them at once).
    rate_per_minute: int = Field(default=120, ge=1)
    # Threads analysing drafts in one process; drafts waiting meanwhile are analysed together
    # in small batches when a thread is free (memory and CPU stay bounded).
    concurrency: int = Field(default=1, ge=1, le=64)
    # Seconds Slack may wait for the answer inside its 3-second acknowledgement; a slower check
    # is acknowledged with "checking..." and answered when it is done.
    slack_answer_within_seconds: float = Field(default=2.0, ge=0, le=2.5)


class SchedulerSettings(Section):
    # Seconds between outbox deliveries.
    deliver_seconds: int = Field(default=60, ge=1)
    # Local hour at which the retention purge runs.
    purge_hour: int = Field(default=3, ge=0, le=23)
    # Address of the /metrics and /healthz endpoint; empty port (0) disables it.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_id: str = ""
    # Accounts fetched at the same time in one collection cycle (threads).
    collect_workers: int = Field(default=32, ge=1, le=512)
    # Random delay (seconds) added to each platform's collection interval.
    jitter_seconds: int = Field(default=60, ge=0)


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(default=False, alias="json")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Settings(Section):
    """The whole configuration."""

    store: StoreSettings = Field(default_factory=StoreSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    decision: DecisionSettings = Field(default_factory=DecisionSettings)
    platforms: PlatformsSettings = Field(default_factory=PlatformsSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    guidance: GuidanceSettings = Field(default_factory=GuidanceSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    # Where the settings came from (for messages); not a config key.
    source: str | None = Field(default=None, exclude=True)


def _describe(err: dict[str, Any]) -> tuple[str, str]:
    key = ".".join(str(p) for p in err.get("loc", ()))
    typ = err.get("type", "")
    if typ == "extra_forbidden":
        return key, "unknown key"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if "input" in err and typ not in ("missing",):
        got = err["input"]
        if not isinstance(got, dict | list):
            msg += f" (got {got!r})"
    return key, msg


class ConfigProblems(ConfigError):
    """A config with several problems: each is its own ConfigError naming file and key."""

    def __init__(self, problems: list[ConfigError]):
        self.problems = problems
        first = problems[0]
        super().__init__("; ".join(str(p) for p in problems))
        self.path, self.key = first.path, first.key


def settings_from_dict(data: dict[str, Any], source: str | None = None) -> Settings:
    """Validate a parsed TOML document; every problem is reported, each naming its key."""
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = [ConfigError(msg, path=source, key=key)
                    for key, msg in (_describe(dict(e)) for e in exc.errors())]
        raise (problems[0] if len(problems) == 1 else ConfigProblems(problems)) from None
    settings.source = source
    return settings


def load_settings(path: str | Path | None = None, *, cwd: Path | None = None) -> Settings:
    """Load settings: the given file, else ``./config.toml`` if present, else the defaults.

    A file that was asked for by name must exist; the implicit ``./config.toml`` is optional.
    """
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            return Settings()
        path = candidate
    p = Path(path)
    if not p.exists():
        raise ConfigError("config file not found", path=p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=p) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise ConfigError("not valid TOML: nested too deeply", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=p) from None
    return settings_from_dict(data, source=str(p))


def secret(env_name: str, *, what: str) -> str:
    """Read a secret from the environment variable the config names.

    The message names the variable, never a value.
    """
    if not env_name:
        raise ConfigError(f"no environment variable is configured for the {what}")
    value = os.environ.get(env_name, "")
    if not value:
        raise ConfigError(f"environment variable {env_name} ({what}) is not set")
    return value


def optional_secret(env_name: str) -> str | None:
    """Like :func:`secret` but returns None when the variable is unset."""
    if not env_name:
        return None
    return os.environ.get(env_name) or None
