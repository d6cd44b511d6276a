"""A deliberately broken plugin, one class per way of breaking (errbot's ``borken_plugin``).

Each class is registered through ``make_app(extra_plugins={name: Class()})`` — never
installed as an entry point, so no real deployment can enable it by accident. They
all own the case kind ``<name>.thing`` so that the core routes their cases to them.
"""

from __future__ import annotations

from datetime import datetime

from kefu.context import PluginContext
from kefu.hookspecs import hookimpl
from kefu.jobs import CronJob
from kefu.kinds import CaseKind, DeadlinePolicy


class Broken(RuntimeError):
    """What the broken plugin raises, so a test can tell it from a real bug."""


class _Owner:
    name = "broken"

    def __init__(self, name: str = "broken") -> None:
        self.name = name

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [
            CaseKind(
                name=f"{self.name}.thing", title="坏插件", prefix="BK", policies=(DeadlinePolicy.resolution("1h"),)
            )
        ]


class RaisesInClassify(_Owner):
    """Claims nothing: raises for every item it is offered."""

    @hookimpl
    def kefu_classify(self, item, ctx):
        raise Broken("classify exploded")


class RaisesInCaseOpened(_Owner):
    """Writes a row, then raises, when one of its cases opens."""

    @hookimpl
    def kefu_case_opened(self, case, ctx):
        case.title = "half-written by the broken plugin"
        raise Broken("case_opened exploded")


class RaisesInCaseChanged(_Owner):
    """Raises for every event on its cases."""

    @hookimpl
    def kefu_case_changed(self, case, event, ctx):
        raise Broken("case_changed exploded")


class RaisesInDeadlineDue(_Owner):
    """Raises when the sweep hands it a due deadline."""

    @hookimpl
    def kefu_deadline_due(self, deadline, case, ctx):
        raise Broken("deadline_due exploded")


def _exploding_job(ctx: PluginContext, fired_at: datetime) -> None:
    from kefu.db.models import Heartbeat

    ctx.db().add(Heartbeat(name="broken-job-was-here", at=ctx.now()))
    ctx.db().flush()
    raise Broken("cron job exploded")


class RaisesInCronJob(_Owner):
    """Its hourly job writes a row and then raises."""

    @hookimpl
    def kefu_schedule(self, ctx: PluginContext) -> list[CronJob]:
        return [CronJob(id="explode", schedule="0 * * * *", func=_exploding_job)]


class RaisesInRegistration:
    """``kefu_case_kinds`` raises: the start (or the reload) must be refused."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        raise Broken("case_kinds exploded")


class RaisesInSchedule:
    """``kefu_schedule`` raises: the start must be refused."""

    @hookimpl
    def kefu_schedule(self, ctx: PluginContext) -> list[CronJob]:
        raise Broken("schedule exploded")


class RaisesInConfigSection:
    """``kefu_config_section`` raises: the config cannot be read, the start is refused."""

    @hookimpl
    def kefu_config_section(self):
        raise Broken("config_section exploded")


class MisspeltHook:
    """``kefu_clasify`` is not a hook: pluggy's check_pending must refuse the start."""

    @hookimpl
    def kefu_clasify(self, item, ctx):
        return None
