"""The typed shape of a rule: what a policy owner may write in ``rules/*.yaml``."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.domain import CATEGORIES, SEVERITY_ORDER

Status = Literal["experimental", "stable", "deprecated"]
Action = Literal["flag", "suppress"]
View = Literal["clean", "folded"]
Decode = Literal["base64"]

STATUSES: tuple[str, ...] = ("experimental", "stable", "deprecated")
# Organisation terms from config ``[policy]`` that rules may refer to by name.
POLICY_TERMS: tuple[str, ...] = (
    "policy.company_names",
    "policy.disclaimers",
    "policy.confidential.terms",
    "policy.confidential.customers_under_nda",
    "policy.disparagement.competitors",
    "policy.disparagement.customers",
    "policy.published_contacts",
)
_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*)+$"


class Strict(BaseModel):
    """Unknown fields are errors, so a typo never silently disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Examples(Strict):
    """Texts the rule must flag and texts it must leave alone; ``rules test`` runs them."""

    match: list[str] = Field(min_length=2)
    no_match: list[str] = Field(min_length=2)


class Match(Strict):
    """What to look for. At least one of regex, phrases, terms_from or tokens."""

    # RE2 regular expressions (linear time). A group named ``value`` marks the part that
    # validators and allow lists look at.
    regex: list[str] = Field(default_factory=list)
    # Which normalised text regexes run on: ``clean`` (homoglyphs, invisible characters and
    # compatibility forms undone) or ``folded`` (also leetspeak and spaced letters undone).
    view: View = "clean"
    # Case-insensitive phrases, matched token by token on the folded text.
    phrases: list[str] = Field(default_factory=list)
    # Organisation terms from config, e.g. ``policy.confidential.terms``.
    terms_from: list[str] = Field(default_factory=list)
    # spaCy Matcher token patterns (lists of token attribute dicts).
    tokens: list[list[dict[str, Any]]] = Field(default_factory=list)
    # A check in code for what a pattern alone cannot tell (a name from ``validators.VALIDATORS``).
    validator: str | None = None
    min_entropy: float = Field(default=3.0, ge=0.0, le=8.0)
    # A built-in checksum of the format (GitHub's CRC32 suffix, bech32, Base58Check). A token
    # that passes is certain; one that fails may be a made-up or mistyped token, or a real one
    # quoted by a tool that mangled it, so it still counts, with ``checksum_penalty`` off its score.
    checksum: str | None = None
    checksum_penalty: float = Field(default=0.25, ge=0.0, le=1.0)
    # ``base64``: the value is decoded and the credential rules run over the decoded text; the
    # rule fires when one of them does (a key pasted as base64 is still a key).
    decode: Decode | None = None
    # Matches equal to an entry of these config lists are not findings (the company's own
    # published contacts: press line, support address, office address).
    allow_from: list[str] = Field(default_factory=list)

    @field_validator("validator", "checksum")
    @classmethod
    def _known_validator(cls, v: str | None) -> str | None:
        from monitor.pipeline.rules.validators import VALIDATORS

        if v is not None and v not in VALIDATORS:
            raise ValueError(f"unknown validator '{v}' (expected one of {', '.join(sorted(VALIDATORS))})")
        return v

    @field_validator("terms_from", "allow_from")
    @classmethod
    def _known_terms(cls, v: list[str]) -> list[str]:
        for name in v:
            if name not in POLICY_TERMS:
                raise ValueError(f"unknown term list '{name}' (expected one of {', '.join(POLICY_TERMS)})")
        return v

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not (self.regex or self.phrases or self.terms_from or self.tokens):
            raise ValueError("needs at least one of regex, phrases, terms_from, tokens")
        return self


class Context(Strict):
    """Words near a match that raise or lower its score."""

    boost: list[str] = Field(default_factory=list)
    reduce: list[str] = Field(default_factory=list)
    # When true, a match counts only with a ``boost`` word nearby.
    require: bool = False
    # Characters either side of the match searched for context words.
    window: int = Field(default=60, ge=1, le=1000)
    boost_by: float = Field(default=0.1, ge=0.0, le=1.0)
    reduce_by: float = Field(default=0.4, ge=0.0, le=1.0)
    # When true, a value that the grammar around it shows to be the poster's own contact
    # detail ("text me on …", "my new address is …") is not a finding (see ``own_contact``).
    own_contact: bool = False

    @model_validator(mode="after")
    def _require_needs_words(self) -> Context:
        if self.require and not self.boost:
            raise ValueError("require is true but no boost words are listed")
        return self


class Rule(Strict):
    """One policy rule, with its metadata, matchers and its own regression examples."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=3)
    category: str
    severity: str
    status: Status
    owner: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    review_by: date
    modified: date | None = None
    policy_section: str = Field(min_length=1)
    guidance: str = ""
    falsepositives: list[str] = Field(min_length=1)
    action: Action = "flag"
    suppresses: list[str] = Field(default_factory=list)
    score: float = Field(default=0.9, ge=0.0, le=1.0)
    match: Match
    context: Context = Field(default_factory=Context)
    # Matches whose text contains one of these (case-insensitive) are placeholders, not findings.
    allow: list[str] = Field(default_factory=list)
    examples: Examples
    references: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"unknown category '{v}' (expected one of {', '.join(CATEGORIES)})")
        return v

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: str) -> str:
        if v not in SEVERITY_ORDER:
            raise ValueError(f"unknown severity '{v}' (expected one of {', '.join(SEVERITY_ORDER)})")
        return v

    @field_validator("suppresses")
    @classmethod
    def _suppresses(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in CATEGORIES]
        if bad:
            raise ValueError(f"unknown categories {bad} (expected {', '.join(CATEGORIES)})")
        return v

    @model_validator(mode="after")
    def _action_fields(self) -> Rule:
        if self.action == "suppress" and not self.suppresses:
            raise ValueError("a suppress rule must list the categories it suppresses")
        if self.action == "flag" and self.suppresses:
            raise ValueError("suppresses is only allowed with action: suppress")
        if self.action == "flag" and not self.guidance.strip():
            raise ValueError("a flag rule needs guidance text")
        return self

    @property
    def active(self) -> bool:
        """Deprecated rules never fire."""
        return self.status != "deprecated"

    @property
    def shadow(self) -> bool:
        """Experimental rules are logged for evaluation but never nudge."""
        return self.status == "experimental"
