"""Installed plugins whose commands cannot be added: listed anyway, each saying how to enable it.

``kefu --help`` shows every installed plugin; ``kefu heating …`` with a config that
does not enable heating says so and names the fix instead of click's "No such command".
"""

from __future__ import annotations

from collections.abc import Iterable

import click


def placeholder(name: str, why: str) -> click.Command:
    """A command named after plugin ``name`` that only explains ``why`` it is not available."""

    def explain() -> None:
        click.echo(f"error: kefu {name}: {why}", err=True)
        raise SystemExit(1)

    return click.Command(
        name,
        callback=explain,
        help=f"(plugin {name}: {why})",
        short_help=f"plugin {name}, not enabled in this config",
        add_help_option=False,  # `kefu heating --help` explains too
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def add_placeholders(
    group: click.Group,
    installed: Iterable[str],
    enabled: Iterable[str],
    config_problem: str | None = None,
) -> None:
    """Add a placeholder for each installed plugin that has no command in ``group`` yet."""
    on = set(enabled)
    for name in sorted(installed):
        if name in group.commands:
            continue
        if config_problem is not None:
            why = f'its commands need a readable config whose [plugins] enabled lists "{name}" ({config_problem})'
        elif name in on:
            continue  # enabled, and it simply has no commands
        else:
            why = f'not enabled; add "{name}" to [plugins] enabled in the config to use its commands'
        group.add_command(placeholder(name, why))
