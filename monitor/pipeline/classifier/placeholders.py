"""Whether a post's credential-shaped assignments hold only placeholders, not secrets.

POLICY.md: placeholders and documentation are benign (``<your password here>``,
``${TOKEN}``, ``REPLACE_ME``, ``****``). The model reads the *shape* of a config line
(``GH_TOKEN=``) and may call it a leak although no value is there; with no secret material in
the post its own credentials finding stays in the shadow log. Rule findings are not touched:
a rule match is material by construction.
"""

from __future__ import annotations

import re

# A name that says "secret" followed by an assignment, and the value assigned.
_ASSIGNMENT = re.compile(
    r"""(?ix)(?:key|token|secret|passw(?:or)?d|passwd|pwd|pass|auth|credentials?|dsn|webhook)
        [\w.\-]*["'\]]?\s*(?::=|=>|[:=])\s*(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;]+)""")
# Values that stand for a secret without being one: template references, environment
# lookups, markers for "fill in", masks and encrypted blobs.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        \$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|\{%.*%\}|<[^>]*>|%[\w.]+%|\$[A-Za-z_]\w*|\[[^\]]*\]|
        todo|tbd|fixme|replace[_\-]?me|change[_\-]?me|changeit|your[_\-\w]*|xx+|\*+|\.{3}|…|
        redacted|placeholder|none|null|nil|undefined|empty|secret|password|dummy|fake|
        (?:[\w\-]*[_\-])?(?:here|goes[_\-]here)|example[\w\-]*|sample[\w\-]*|
        env\(.*\)|process\.env\.\w+|os\.environ.*|getenv\(.*\)|vault:.*|ENC\[.*\]
    )$""")
# A long run that looks random (letters and digits mixed) is material wherever it stands.
_RANDOM_RUN = re.compile(r"(?=[A-Za-z0-9+/=_\-]{20,})(?=\S*[0-9])(?=\S*[A-Za-z])[A-Za-z0-9+/=_\-]{20,}")
# The classifier's stand-in for a secret the rules found (see prepare.PLACEHOLDERS).
_FOUND_SECRET = "[unused8]"
_SHORTEST_SECRET = 4


def only_placeholders(text: str) -> bool:
    """True when the post assigns credential-named values and every one is a placeholder,
    and nothing else in it looks like key material."""
    if _FOUND_SECRET in text or _RANDOM_RUN.search(text):
        return False
    values = [m.group("value").strip("\"'") for m in _ASSIGNMENT.finditer(text)]
    if not values:
        return False
    return all(len(v) < _SHORTEST_SECRET or _PLACEHOLDER.match(v) for v in values)
