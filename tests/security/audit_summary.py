"""Read pip-audit's JSON report and say plainly what was and was not checked (``make audit``).

pip-audit says "No known vulnerabilities found" even when the vulnerability database knew
none of the packages (a mirror without it, no network): that is not a clean bill of health,
so this summary counts the packages really checked and says NOT CHECKED when there were none.
Exit status: 1 when a known vulnerability was found, else 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summarise(report: dict[str, Any]) -> tuple[str, int]:
    """The summary lines and the exit status for one pip-audit JSON report."""
    deps = report.get("dependencies", [])
    checked = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in checked if d.get("vulns")]
    lines = [f"audit: {len(checked)} packages checked, {len(skipped)} could not be checked"]
    for d in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in d["vulns"])
        lines.append(f"audit: VULNERABLE {d['name']} {d.get('version', '')}: {ids}")
    if not checked:
        lines.append("audit: NOT CHECKED - the vulnerability database reachable from here "
                     "knows none of these packages; run 'make audit' where pypi.org is "
                     "reachable")
    elif skipped:
        names = ", ".join(d["name"] for d in skipped[:20])
        lines.append(f"audit: not checked: {names}{' …' if len(skipped) > 20 else ''}")
    if checked and not vulnerable:
        lines.append("audit: no known vulnerabilities in the packages checked")
    return "\n".join(lines), 1 if vulnerable else 0


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else None
    try:
        report = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict) or "dependencies" not in report:
        print("audit: NOT CHECKED - pip-audit gave no report (is the vulnerability database "
              "reachable from here?)")
        return 0
    text, status = summarise(report)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
