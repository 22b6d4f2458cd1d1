"""Reads rule files into typed rules, naming file, line and field for every problem."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.errors import RuleError
from monitor.pipeline.rules.model import Rule
from monitor.safe_yaml import UnsafeYamlError, compose_and_load

Path_ = tuple[str | int, ...]
_FILE_KEYS = {"defaults", "rules"}


@dataclass(slots=True)
class LoadedRule:
    """A validated rule plus where it came from (for messages, versions and ``rules test``)."""

    rule: Rule
    path: Path
    line: int
    file_sha: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, *where: str | int) -> int:
        """The line of a field inside this rule (falls back to the rule's first line)."""
        loc: Path_ = tuple(where)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.line

    @property
    def version(self) -> str:
        """The rule's revision: its ``modified`` date when given, else the file's hash."""
        if self.rule.modified is not None:
            return f"{self.rule.modified.isoformat()}+{self.file_sha}"
        return self.file_sha


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int], file: Path) -> None:
    """Record the line of every mapping key and sequence item; reject duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise RuleError(
                    "duplicate key", file, key_node.start_mark.line + 1,
                    ".".join(_shown(p) for p in (*path, key)),
                )
            seen.add(key)
            out[(*path, key)] = key_node.start_mark.line + 1
            _lines(value_node, (*path, key), out, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _lines(item, (*path, i), out, file)


def _shown(key: object) -> str:
    """A key as a message shows it: control and line-break characters escaped, one line."""
    text = str(key)
    return text if text.isprintable() else ascii(text)[1:-1]


def _field_name(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _shown(part)
    return out


def load_file(path: Path) -> list[LoadedRule]:
    """Parse and validate one YAML rule file."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read rule file: {exc}", path) from None
    sha = hashlib.sha256(raw).hexdigest()[:12]
    try:
        node, data = compose_and_load(text)
    except UnsafeYamlError as exc:
        raise RuleError(f"refused YAML: {exc}", path, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        if isinstance(exc, yaml.reader.ReaderError):
            problem = f"{exc.reason} (character {exc.character!r} at offset {exc.position})"
        else:
            problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        ctx, ctx_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if ctx and ctx_mark is not None:
            problem += f" ({ctx} started on line {ctx_mark.line + 1})"
        raise RuleError(f"not valid YAML: {problem}", path, line) from None
    except ValueError as exc:  # a value PyYAML cannot build, e.g. the date 2027-02-30
        raise RuleError(f"not valid YAML: {exc}", path) from None
    if data is None:
        return []
    if not isinstance(data, dict) or node is None:
        raise RuleError("a rule file must be a mapping with a 'rules' list", path, 1)
    lines: dict[Path_, int] = {}
    _lines(node, (), lines, path)
    for key in data:
        if key not in _FILE_KEYS:
            raise RuleError("unknown top-level key (expected 'defaults' and 'rules')",
                            path, lines.get((str(key),)), _shown(key))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RuleError("must be a mapping", path, lines.get(("defaults",)), "defaults")
    items = data.get("rules")
    if not isinstance(items, list):
        raise RuleError("must be a list of rules", path, lines.get(("rules",), 1), "rules")
    loaded: list[LoadedRule] = []
    for i, item in enumerate(items):
        line = lines.get(("rules", i), 1)
        if not isinstance(item, dict):
            raise RuleError("each rule must be a mapping", path, line, f"rules[{i}]")
        merged: dict[str, Any] = {**defaults, **item}
        rule_lines = {k[2:]: v for k, v in lines.items() if k[:2] == ("rules", i) and len(k) > 2}
        for k, v in lines.items():
            if k[:1] == ("defaults",) and len(k) > 1 and k[1] not in item:
                rule_lines[k[1:]] = v
        rule_id = item.get("id") if isinstance(item.get("id"), str) else None
        try:
            rule = Rule.model_validate(merged)
        except ValidationError as exc:
            # An unknown field explains the "missing" error that usually comes with it.
            errs = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
            err = errs[0]
            loc = tuple(err.get("loc", ()))
            fld = _field_name(loc)
            at = line
            probe = loc
            while probe:
                if probe in rule_lines:
                    at = rule_lines[probe]
                    break
                probe = probe[:-1]
            msg = "unknown field" if err.get("type") == "extra_forbidden" else str(err.get("msg"))
            msg = msg.removeprefix("Value error, ")
            raise RuleError(msg, path, at, fld or None, rule_id) from None
        loaded.append(LoadedRule(rule, path, line, sha, rule_lines))
    return loaded


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their ``*.yaml``/``*.yml`` files, sorted; files stay as given."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")))
        elif p.is_file():
            out.append(p)
        else:
            raise RuleError("rule path not found", p)
    return out


def load_rules(paths: Iterable[Path]) -> list[LoadedRule]:
    """Load every rule file under ``paths``; rule ids must be unique across all of them."""
    loaded: list[LoadedRule] = []
    seen: dict[str, LoadedRule] = {}
    for file in rule_files(paths):
        for lr in load_file(file):
            first = seen.get(lr.rule.id)
            if first is not None:
                raise RuleError(
                    f"duplicate rule id (first defined in {first.path}:{first.line})",
                    lr.path, lr.line_of("id"), "id", lr.rule.id,
                )
            seen[lr.rule.id] = lr
            loaded.append(lr)
    return loaded
