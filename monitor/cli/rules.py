"""CLI commands for the policy rules (``rules test|lint|explain``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from monitor.cli.common import ConfigOption, cli_errors, err_console, out_console, settings_from

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Rule files or folders (default: the bundled packs plus [rules] paths)."),
]


def _load(config: Path | None, paths: list[Path] | None):  # noqa: ANN202 - internal helper
    from monitor.pipeline.rules import load_rules, rule_paths

    settings = settings_from(config)
    return settings, load_rules(paths or rule_paths(settings))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    rules_app = typer.Typer(
        help="Policy rules: run their examples, lint them, explain a text.",
        no_args_is_help=True,
    )
    app.add_typer(rules_app, name="rules")

    @rules_app.command("test")
    def test_cmd(paths: PathsArg = None, config: ConfigOption = None) -> None:
        """Run every rule's own match / no_match examples; exit 1 naming each failure."""
        with cli_errors():
            from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, policy_terms
            from monitor.pipeline.rules.checks import example_failures

            _settings, loaded = _load(config, paths)
            engine = RuleEngine(loaded, policy_terms(EXAMPLE_POLICY))
            failures = example_failures(engine, loaded)
            active = [lr for lr in loaded if lr.rule.active]
            n = sum(len(lr.rule.examples.match) + len(lr.rule.examples.no_match) for lr in active)
            for f in failures:
                err_console.print(f"[red]FAIL[/] {escape(str(f))}")
            if failures:
                err_console.print(f"{len(failures)} of {n} examples failed in {len(active)} rules")
                raise typer.Exit(code=1)
            out_console.print(f"{n} examples passed in {len(active)} rules")

    @rules_app.command("lint")
    def lint_cmd(paths: PathsArg = None, config: ConfigOption = None) -> None:
        """Check ids, allowed values, owners and review dates; list rules overdue for review."""
        with cli_errors():
            from monitor.pipeline.rules import RuleEngine, policy_terms
            from monitor.pipeline.rules.checks import lint

            settings, loaded = _load(config, paths)
            RuleEngine(loaded, policy_terms(settings.policy))  # every pattern must compile
            issues = lint(loaded)
            errors = [i for i in issues if i.level == "error"]
            for i in issues:
                colour = "red" if i.level == "error" else "yellow"
                err_console.print(f"[{colour}]{escape(str(i))}[/]")
            overdue = [i for i in issues if "overdue" in i.message]
            out_console.print(
                f"{len(loaded)} rules, {len(errors)} errors, {len(issues) - len(errors)} warnings"
                f" ({len(overdue)} overdue for review)"
            )
            if errors:
                raise typer.Exit(code=1)

    @rules_app.command("explain")
    def explain_cmd(
        text: Annotated[str, typer.Argument(help="The text to analyse ('-' reads stdin).")],
        config: ConfigOption = None,
        example_policy: Annotated[
            bool, typer.Option(help="Use the example organisation's terms instead of config's.")
        ] = False,
    ) -> None:
        """Show which rules fire on a text, on which spans, and why."""
        with cli_errors():
            import sys

            from monitor.pipeline.rules import EXAMPLE_POLICY, engine_for

            settings = settings_from(config)
            if example_policy:
                settings = settings.model_copy(update={"policy": EXAMPLE_POLICY})
            if text == "-":
                text = sys.stdin.read()
            analysis = engine_for(settings).analyse(text)
            rows = (
                [(f, "flag" if not f.shadow else "shadow") for f in analysis.findings]
                + [(f, "suppressed") for f in analysis.suppressed]
                + [(f, "suppressor") for f in analysis.suppressors]
            )
            if not rows:
                out_console.print("No rule fires on this text.")
                return
            out_console.print(f"[bold]{len(rows)} rule(s) fire[/] on {len(text)} characters")
            for f, effect in rows:
                colour = {"flag": "red", "shadow": "yellow", "suppressor": "green"}.get(effect, "dim")
                out_console.print(
                    f"[bold]{escape(f.source.removeprefix('rule:'))}[/]  {f.category}  "
                    f"{f.severity}  score {f.score:.2f}  [{colour}]{effect}[/]"
                    + (f"  ({escape(f.policy_section)})" if f.policy_section else "")
                )
                for a, b in f.spans[:10]:
                    out_console.print(f"    span [{a}:{b}] {escape(repr(text[a:b]))}")
                for why in f.explanation:
                    out_console.print(f"    why: {escape(why)}")
            if analysis.suppressed:
                out_console.print(
                    "Suppressed findings are never flagged: protected speech or a disclaimer."
                )
