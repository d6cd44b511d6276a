"""An action's ``confirm`` text is a required tick in its form, and the console checks it too: a post
without ``confirmed=1`` is refused with the text and writes nothing; with it the action runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from kefu.api import CaseKind, ConsoleAction, ConsoleField, PluginContext, hookimpl
from kefu.console.auth import set_password
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent

from .conftest import PASSWORD, Client

TICK = 'type="checkbox" name="confirmed" value="1" required'


class Desk:
    """A test double: one case kind, a case action and a page action that each ask for a tick."""

    @hookimpl
    def kefu_case_kinds(self) -> list[CaseKind]:
        return [CaseKind(name="job", title="工作", prefix="JB")]

    @staticmethod
    def note(ctx: PluginContext[Any], case: Any, _values: Mapping[str, str], actor: str) -> str:
        ctx.record_event(case, "note", actor=actor, reason="已确认")
        return "已记录"

    @staticmethod
    def open_job(ctx: PluginContext[Any], _case: Any, values: Mapping[str, str], actor: str) -> str:
        return ctx.open_case(kind="job", title=values["title"], actor=actor).number

    @hookimpl
    def kefu_console_actions(self) -> list[ConsoleAction]:
        note: Any = self.note
        open_job: Any = self.open_job
        return [
            ConsoleAction(name="note", label="记一笔", run=note, confirm="确定记下？"),
            ConsoleAction(
                name="open",
                label="开单",
                on="plugin",
                run=open_job,
                fields=(ConsoleField("title", "标题", required=True),),
                confirm="确定开单？",
            ),
        ]


def _flash(response: Any) -> dict[str, str]:
    assert response.status_code == 303, response.text[:300]
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def _count(app: Any, what: Any) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)


def test_an_action_without_its_tick_is_refused_and_writes_nothing(make_app) -> None:
    staff = {"people": {"a": {"name": "甲"}}, "access": {"a": {"role": "agent"}}}
    app = make_app(
        plugins=["desk"], extra_plugins={"desk": Desk()}, config={"staff": staff, "console": {"enabled": True}}
    )
    with transaction(app.sessions) as s:
        set_password(s, "a", PASSWORD, app.clock.now())
    agent = Client(app)
    agent.sign_in("a")

    # The page action: the tick is drawn with its text; without it nothing opens.
    page = agent.get("/plugin/desk").text
    assert TICK in page and "确定开单？" in page
    refused = _flash(agent.post("/plugin/desk/open", {"title": "一号"}))
    assert refused == {"err": "请先勾选确认：确定开单？"}
    assert _flash(agent.post("/plugin/desk/open", {"title": "一号", "confirmed": "yes"}))["err"]
    assert _count(app, Case) == 0
    number = _flash(agent.post("/plugin/desk/open", {"title": "一号", "confirmed": "1"}))["ok"]
    assert number.startswith("JB-") and _count(app, Case) == 1

    # The case action: the same on the case page.
    assert TICK in agent.get(f"/case/{number}").text and "确定记下？" in agent.get(f"/case/{number}").text
    events = _count(app, CaseEvent)
    assert _flash(agent.post(f"/case/{number}/plugin/desk/note"))["err"] == "请先勾选确认：确定记下？"
    assert _count(app, CaseEvent) == events
    assert _flash(agent.post(f"/case/{number}/plugin/desk/note", {"confirmed": "1"}))["ok"] == "已记录"
    assert _count(app, CaseEvent) == events + 1


def test_a_field_may_not_take_the_ticks_name() -> None:
    with pytest.raises(ValueError, match="confirmed"):
        ConsoleAction(
            name="x", label="X", run=Desk.note, confirm="确定？", fields=(ConsoleField("confirmed", "已确认"),)
        )
