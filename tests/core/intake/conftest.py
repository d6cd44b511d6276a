"""A heating-like test plugin for intake tests: keyword rules, and an acknowledgement that honours no_ack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kefu.app import App
from kefu.context import PluginContext
from kefu.db.models import Case
from kefu.hookspecs import hookimpl
from kefu.intake.message import Classification, InboundMessage
from kefu.kinds import CaseKind
from kefu.outbound.outbox import queue_message


class HeatPlugin:
    """漏水/跑水/冒汽/滴漏 → leak (urgent); 不热/温度低 → general; acknowledges by mail or SMS."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [
            CaseKind(name="heat.leak", title="漏水", prefix="HT", urgent=True),
            CaseKind(name="heat.general", title="一般投诉", prefix="HT"),
        ]

    @hookimpl
    def kefu_classify(self, item: InboundMessage, ctx: PluginContext) -> Classification | None:
        if any(w in item.body for w in ("漏水", "跑水", "冒汽", "滴漏")):
            return Classification(kind="heat.leak", urgent=True)
        if any(w in item.body for w in ("不热", "温度低")):
            return Classification(kind="heat.general")
        return None

    @hookimpl
    def kefu_case_opened(self, case: Case, ctx: PluginContext) -> None:
        if case.data.get("no_ack"):
            return
        sender = case.data.get("reply_to")
        if sender:
            queue_message(ctx, key=f"{case.number}/ack", channel="email", recipient=sender, template="ack", case=case)


class BrokenClassifier:
    """Raises in kefu_classify: intake must log it and ask the next plugin."""

    @hookimpl
    def kefu_classify(self, item: InboundMessage, ctx: PluginContext) -> Classification | None:
        raise RuntimeError("classifier exploded")


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    """An empty Maildir."""
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


@pytest.fixture
def heat_app(make_app: Callable[..., App], maildir: Path) -> Callable[..., App]:
    """An app with the heat test plugin reading ``maildir`` as channel ``maildir:service``."""

    def build(config: dict[str, Any] | None = None, broken_first: bool = False, **channel: Any) -> App:
        plugins = ["broken", "heat"] if broken_first else ["heat"]
        extra: dict[str, object] = {"heat": HeatPlugin(), "broken": BrokenClassifier()}
        base = {"channels": {"maildir": {"service": {"path": str(maildir), "poll_interval": "0s", **channel}}}}
        from kefu.testing.fixtures import merge

        return make_app(plugins=plugins, config=merge(base, config or {}), extra_plugins=extra)

    return build
