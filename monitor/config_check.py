"""What ``config check`` verifies beyond the schema: the secrets each enabled part needs.

A config can be valid TOML with every key right and still fail at the first delivery because
``[slack] enabled = true`` names a token variable nobody set. Only variable names are ever
printed; the values are read to see whether they are set, never shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from monitor.config import Settings


@dataclass(frozen=True, slots=True)
class SecretNeed:
    """One environment variable a configured part reads, and what happens without it."""

    key: str  # the config key naming the variable, e.g. "slack.bot_token_env"
    variable: str
    what: str
    required: bool  # False: the part works without it, but less well (a warning)
    without: str = ""

    @property
    def is_set(self) -> bool:
        return bool(self.variable) and bool(os.environ.get(self.variable))

    def message(self) -> str:
        if not self.variable:
            return f"key '{self.key}': empty, but the {self.what} must come from a variable"
        tail = f"; {self.without}" if self.without else ""
        return (f"key '{self.key}': environment variable {self.variable} ({self.what}) "
                f"is not set{tail}")


def secret_needs(settings: Settings) -> list[SecretNeed]:
    """Every secret variable the enabled parts of this config read."""
    needs: list[SecretNeed] = []
    slack = settings.slack
    if slack.enabled:
        needs.append(SecretNeed("slack.bot_token_env", slack.bot_token_env, "Slack bot token",
                                True, "nudges cannot be delivered"))
        if slack.mode == "socket":
            needs.append(SecretNeed("slack.app_token_env", slack.app_token_env,
                                    "Slack app-level token for Socket Mode", True,
                                    "`slack serve` cannot connect"))
        else:
            needs.append(SecretNeed("slack.signing_secret_env", slack.signing_secret_env,
                                    "Slack signing secret", True,
                                    "`slack serve` cannot verify requests"))
    x = settings.platforms.x
    if x.enabled:
        needs.append(SecretNeed("platforms.x.bearer_token_env", x.bearer_token_env,
                                "X bearer token", True, "X is skipped every cycle"))
    reddit = settings.platforms.reddit
    if reddit.enabled:
        needs.append(SecretNeed("platforms.reddit.client_id_env", reddit.client_id_env,
                                "Reddit client id", True, "Reddit is skipped every cycle"))
        needs.append(SecretNeed("platforms.reddit.client_secret_env", reddit.client_secret_env,
                                "Reddit client secret", True, "Reddit is skipped every cycle"))
    web = settings.web
    if web.oidc_issuer:
        needs.append(SecretNeed("web.oidc_client_id_env", web.oidc_client_id_env,
                                "OIDC client id", True, "`web` refuses to start"))
        needs.append(SecretNeed("web.oidc_client_secret_env", web.oidc_client_secret_env,
                                "OIDC client secret", True, "`web` refuses to start"))
    needs.append(SecretNeed("web.secret_key_env", web.secret_key_env,
                            "dashboard session key", False,
                            "a random key is used and sign-ins end when `web` restarts"))
    needs.append(SecretNeed("store.secret_key_env", settings.store.secret_key_env,
                            "credential sealing key", False,
                            "found credentials are masked but cannot be revealed"))
    return needs


def missing_secrets(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings): one line per unset variable, naming it and never a value."""
    problems: list[str] = []
    warnings: list[str] = []
    for need in secret_needs(settings):
        if not need.is_set:
            (problems if need.required else warnings).append(need.message())
    return problems, warnings
