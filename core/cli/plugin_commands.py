"""What a plugin's ``kefu <plugin> …`` commands use: their context, and the listing helpers."""

from __future__ import annotations

from typing import Any

import click

from kefu.cli.appctx import emit, json_option, obtain_app
from kefu.context import PluginContext

__all__ = ["command_context", "emit", "json_option"]


def command_context(module: str) -> PluginContext[Any]:
    """The context of the enabled plugin whose package holds ``module`` (pass ``__name__``).

    Builds the application from ``--config`` once per command; a plugin that is not
    in ``[plugins] enabled`` is an error for the person at the terminal. Work in
    ``with command_context(__name__).transaction() as ctx:``.
    """
    app = obtain_app()
    name = app.host.plugin_of_module(module)
    if name is None:
        raise click.ClickException(f"the plugin of {module} is not in [plugins] enabled")
    return app.context(name)
