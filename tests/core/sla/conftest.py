"""A test plugin declaring the two kinds the SLA tests drive, and the staff they escalate to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from kefu.context import PluginContext
from kefu.durations import Duration
from kefu.hookspecs import hookimpl
from kefu.kinds import CaseKind, DeadlinePolicy, Level, WholeDays

STEPS = ("沟通联系", "现场查看", "责任判定", "方案制定", "工作指派", "维修关闭")


class SlaTestConfig(BaseModel):
    """Durations from config, as a real plugin does it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leak_within: Duration = timedelta(hours=4)
    first_contact: Duration = timedelta(hours=2)
    site_visit: Duration = timedelta(hours=24)
    closure_days: int = 5
    callback_days: int = 3


class SlaTestPlugin:
    """Hooks of the ``slatest`` plugin; ``handled`` makes kefu_deadline_due claim deadlines."""

    def __init__(self) -> None:
        self.handled: bool | None = None
        self.fail = False
        self.calls: list[str] = []

    @hookimpl
    def kefu_config_section(self) -> type[BaseModel]:
        return SlaTestConfig

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        cfg: SlaTestConfig = ctx.config
        chain = ("rota:station-{unit}", "branch_head", "cs_head")
        return [
            CaseKind(
                name="slatest.leak",
                title="跑冒漏",
                prefix="HT",
                urgent=True,
                policies=(
                    DeadlinePolicy.resolution(cfg.leak_within, clock="24x7", chain=chain, channels=("email", "sms")),
                ),
            ),
            CaseKind(
                name="slatest.repair",
                title="报修",
                prefix="BX",
                steps=STEPS,
                reopen_on_reply=True,
                policies=(
                    DeadlinePolicy.first_response(cfg.first_contact, clock="workday", chain=("branch_head",)),
                    DeadlinePolicy.for_step(
                        "现场查看", cfg.site_visit, clock="workday", chain=(Level("branch_head", channels=("sms",)),)
                    ),
                    DeadlinePolicy.resolution(WholeDays(cfg.closure_days, working=True), chain=("branch_head",)),
                    DeadlinePolicy.callback(WholeDays(cfg.callback_days), chain=("cs_head",)),
                ),
            ),
        ]

    @hookimpl
    def kefu_deadline_due(self, deadline: Any, case: Any, ctx: PluginContext) -> bool | None:
        self.calls.append(f"{case.number}/{deadline.name}")
        if self.fail:
            raise RuntimeError("plugin bug")
        return self.handled


STAFF: dict[str, Any] = {
    "people": {
        "zhang": {"name": "张站长", "email": "zhang@example.cn", "phone": "+8613800000001"},
        "li": {"name": "李值班", "email": "li@example.cn", "phone": "+8613800000002"},
        "wang": {"name": "王经理", "email": "wang@example.cn", "phone": "+8613800000003"},
        "zhao": {"name": "赵主任", "email": "zhao@example.cn"},
    },
    "roles": {"branch_head": ["wang"], "cs_head": ["zhao"]},
    "rotas": {
        "station-S01": {
            "shifts": [
                {"who": "zhang", "days": "daily", "start": "08:00", "end": "20:00"},
                {"who": "li", "days": "daily", "start": "20:00", "end": "08:00"},
            ],
        },
    },
}


@pytest.fixture
def sla_staff() -> dict[str, Any]:
    """The test staff (people, roles, rotas), a copy a test may extend."""
    return {key: dict(value) for key, value in STAFF.items()}


@pytest.fixture
def plugin() -> SlaTestPlugin:
    """A fresh test plugin."""
    return SlaTestPlugin()


@pytest.fixture
def sla_app(make_app: Any, plugin: SlaTestPlugin) -> Any:
    """An app with the slatest plugin and its staff."""

    def build(config: dict[str, Any] | None = None) -> Any:
        cfg = {"staff": STAFF, **(config or {})}
        return make_app(plugins=["slatest"], config=cfg, extra_plugins={"slatest": plugin})

    return build
