"""A plugin that implements every hook and records each call, for the contract tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from pydantic import BaseModel, ConfigDict

from kefu.console.extension import ConsoleAction, ConsoleField
from kefu.context import PluginContext
from kefu.db.models import CaseEvent
from kefu.hookspecs import hookimpl
from kefu.http.route import Route
from kefu.http.router import Request, Response
from kefu.intake.message import Classification
from kefu.jobs import CronJob
from kefu.kinds import CaseKind, DeadlinePolicy


class RecorderConfig(BaseModel):
    """``[recorder]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keyword: str = "记录"
    sample: dict[str, Any] = {"customer_name": "张三"}


class Recorder:
    """Answers every hook and remembers (hook, detail, whether a session was open)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, bool]] = []

    def seen(self, hook: str) -> list[Any]:
        return [detail for name, detail, _s in self.calls if name == hook]

    def _tick(self, ctx: PluginContext, fired_at: datetime) -> None:
        self.calls.append(("job", fired_at, ctx.session is not None))

    @hookimpl
    def kefu_config_section(self) -> type[BaseModel]:
        self.calls.append(("kefu_config_section", None, False))
        return RecorderConfig

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        self.calls.append(("kefu_case_kinds", ctx.config.keyword, False))
        return [CaseKind(name="recorder.thing", title="记录", prefix="RC", policies=(DeadlinePolicy.resolution("1h"),))]

    @hookimpl
    def kefu_schedule(self, ctx: PluginContext) -> list[CronJob]:
        self.calls.append(("kefu_schedule", None, False))
        return [CronJob(id="tick", schedule="0 * * * *", func=self._tick)]

    @hookimpl
    def kefu_classify(self, item, ctx: PluginContext) -> Classification | None:
        self.calls.append(("kefu_classify", item.subject, ctx.session is not None))
        return Classification(kind="recorder.thing") if ctx.config.keyword in item.subject else None

    @hookimpl
    def kefu_case_opened(self, case, ctx: PluginContext) -> None:
        self.calls.append(("kefu_case_opened", case.number, ctx.session is not None))
        ctx.db().add(CaseEvent(case_id=case.id, at=ctx.now(), actor="recorder", type="recorder_ack"))

    @hookimpl
    def kefu_case_changed(self, case, event, ctx: PluginContext) -> None:
        self.calls.append(("kefu_case_changed", event.type, ctx.session is not None))

    @hookimpl
    def kefu_deadline_due(self, deadline, case, ctx: PluginContext) -> bool:
        self.calls.append(("kefu_deadline_due", deadline.name, ctx.session is not None))
        return True

    @hookimpl
    def kefu_cli(self, group: click.Group) -> None:
        @group.group("recorder")
        def recorder() -> None:
            """The recorder's commands."""

        @recorder.command("hello")
        def hello() -> None:
            click.echo("你好 from recorder")

    @hookimpl
    def kefu_http(self, ctx: PluginContext) -> list[Route]:
        return [Route("GET", "/recorder/hello", lambda request: self._hello(request, ctx))]

    def _hello(self, request: Request, ctx: PluginContext) -> Response:
        self.calls.append(("kefu_http", request.path, False))
        return Response.text(f"你好 {ctx.name}")

    @hookimpl
    def kefu_console_actions(self, ctx: PluginContext) -> list[ConsoleAction]:
        return [
            ConsoleAction(
                name="hello",
                label="你好",
                on="plugin",
                run=self._console_hello,
                fields=(ConsoleField("who", "谁", required=True),),
            )
        ]

    def _console_hello(self, ctx: PluginContext, case: Any, values: Any, actor: str) -> str:
        self.calls.append(("kefu_console_actions", (values["who"], actor), ctx.session is not None))
        return f"你好 {values['who']}"

    @hookimpl
    def kefu_template_samples(self, ctx: PluginContext) -> dict[str, dict[str, Any]]:
        self.calls.append(("kefu_template_samples", None, False))
        return {"recorder/hello.txt": dict(ctx.config.sample)}
