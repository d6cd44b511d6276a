"""The ``kefu`` command: the daemon, its checks and the staff's tools."""

from __future__ import annotations

import logging
import os
import sys

import click

from kefu import __version__
from kefu.cli import cases_cmds, daemon_cmds, db_cmds, inbound_cmds, outbound_cmds, sla_cmds, staff_cmds
from kefu.cli.plugin_placeholders import add_placeholders
from kefu.logs import setup_logging


class KefuGroup(click.Group):
    """The root group; adds the commands of the enabled plugins when the config is readable."""

    _plugins_added = False

    def _add_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        from kefu.app import load_settings
        from kefu.cli.appctx import obtain_app
        from kefu.config import ConfigError, config_path, read_toml
        from kefu.context import PluginContext
        from kefu.plugin_calls import PluginCalls
        from kefu.plugin_host import discover

        path = config_path((ctx.obj or {}).get("config") if ctx.obj else None)
        installed = discover()
        try:
            _settings, host = load_settings(path, read_toml(path), installed)
        except (ConfigError, Exception) as exc:
            # `kefu --help` must work without a config; plugin commands need one.
            problems = exc.problems if isinstance(exc, ConfigError) else [f"{type(exc).__name__}: {exc}"]
            add_placeholders(self, installed, (), f"{path}: {'; '.join(problems)}")
            return
        # Each plugin's context builds the application only when one of its commands uses it.
        PluginCalls(host).cli(self, lambda name: PluginContext.deferred(name, obtain_app))
        add_placeholders(self, installed, host.enabled)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None:
            self._add_plugin_commands(ctx)
            found = super().get_command(ctx, cmd_name)
        return found


@click.group(cls=KefuGroup)
@click.option(
    "--config",
    "config",
    envvar="KEFU_CONFIG",
    type=click.Path(dir_okay=False),
    help="config file (default $KEFU_CONFIG, else /etc/kefu/kefu.toml)",
)
@click.option("-v", "--verbose", is_flag=True, help="log debug messages")
@click.version_option(__version__, prog_name="kefu")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """kefu (客服): runs a customer-service department's routine unattended."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    setup_logging(logging.DEBUG if verbose else logging.INFO)


for module in (daemon_cmds, db_cmds, cases_cmds, sla_cmds, inbound_cmds, outbound_cmds, staff_cmds):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    # Pre-parse --config so the plugin commands can be found before click parses further.
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            os.environ.setdefault("KEFU_CONFIG", args[i + 1])
        elif arg.startswith("--config="):
            os.environ.setdefault("KEFU_CONFIG", arg.split("=", 1)[1])
    cli(prog_name="kefu")


if __name__ == "__main__":
    main()
