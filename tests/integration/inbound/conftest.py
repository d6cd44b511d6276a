"""Fixtures for the inbound integration tests: the heat test plugin against real peers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.app import App
from kefu.context import PluginContext
from kefu.db.models import Case
from kefu.hookspecs import hookimpl
from kefu.intake.message import Classification, InboundMessage
from kefu.kinds import CaseKind
from kefu.outbound.outbox import queue_message
from kefu.testing.dovecot import Dovecot
from kefu.testing.fixtures import merge


class HeatPlugin:
    """漏水 → leak (urgent); 不热 → general; acknowledges unless the case says no_ack."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [
            CaseKind(name="heat.leak", title="漏水", prefix="HT", urgent=True),
            CaseKind(name="heat.general", title="一般投诉", prefix="HT"),
        ]

    @hookimpl
    def kefu_classify(self, item: InboundMessage, ctx: PluginContext) -> Classification | None:
        if "漏水" in item.body:
            return Classification(kind="heat.leak", urgent=True)
        if "不热" in item.body:
            return Classification(kind="heat.general")
        return None

    @hookimpl
    def kefu_case_opened(self, case: Case, ctx: PluginContext) -> None:
        if not case.data.get("no_ack") and case.data.get("reply_to"):
            queue_message(
                ctx,
                key=f"{case.number}/ack",
                channel=case.data["source"],
                recipient=case.data["reply_to"],
                template="ack",
                case=case,
            )


@pytest.fixture
def imap_app(make_app: Callable[..., App], dovecot: Dovecot) -> Callable[..., App]:
    """An app reading the private Dovecot's INBOX as ``imap:service`` (polling, no IDLE)."""

    def build(config: dict[str, Any] | None = None, **channel: Any) -> App:
        base = {
            "channels": {
                "imap": {"service": dovecot.channel_config(**{"poll_interval": "0s", "idle": False, **channel})}
            }
        }
        return make_app(plugins=["heat"], config=merge(base, config or {}), extra_plugins={"heat": HeatPlugin()})

    return build
