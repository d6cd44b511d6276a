"""A plugin's page scoped by unit where there is no case: a page action's ``unit_of``, a table's
``unit_column``, and a ``search`` field that makes a table a lookup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kefu.api import ConsoleAction, ConsoleField, ConsolePage, PluginContext, hookimpl
from kefu.console.auth import set_password
from kefu.db.engine import transaction

from .conftest import PASSWORD, Client

ROWS = [["A", "a-1", "one"], ["B", "b-1", "two"], ["A", "a-2", "three"]]


class Desk:
    """A test double: rows of units A and B, and an action on a row named by its key."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []

    def unit_of(self, _ctx: PluginContext[Any], values: Mapping[str, str]) -> str:
        found = [r[0] for r in ROWS if r[1] == values.get("key")]
        if not found:
            raise ValueError(f"没有 {values.get('key')}")
        return found[0]

    def run(self, _ctx: PluginContext[Any], _case: Any, values: Mapping[str, str], actor: str) -> str:
        self.done.append((values["key"], actor))
        return f"done {values['key']}"

    def lookup(self, _ctx: PluginContext[Any], query: str) -> tuple[list[str], list[list[str]]]:
        return ["unit", "key", "what"], [r for r in ROWS if r[1].startswith(query)]

    def listing(self, _ctx: PluginContext[Any]) -> tuple[list[str], list[list[str]]]:
        return ["what", "unit"], [[r[2], r[0]] for r in ROWS]

    @hookimpl
    def kefu_console_actions(self) -> list[ConsoleAction | ConsolePage]:
        run: Any = self.run
        return [
            ConsolePage(
                name="lookup",
                title="LOOKUP",
                rows=self.lookup,
                unit_column=0,
                search=ConsoleField("q", "key"),
            ),
            ConsolePage(name="listing", title="LISTING", rows=self.listing, unit_column=1),
            ConsoleAction(
                name="act", label="ACT", on="plugin", run=run, unit_of=self.unit_of, fields=(ConsoleField("key", "k"),)
            ),
        ]


def _app(make_app, desk: Desk):
    staff = {
        "people": {"a": {"name": "甲"}, "h": {"name": "主任"}},
        "access": {"a": {"role": "agent", "units": ["A"]}, "h": {"role": "head"}},
    }
    app = make_app(
        plugins=["desk"], extra_plugins={"desk": desk}, config={"staff": staff, "console": {"enabled": True}}
    )
    with transaction(app.sessions) as s:
        for key in ("a", "h"):
            set_password(s, key, PASSWORD, app.clock.now())
    return app


def _section(client: Client, title: str, **params: str) -> str:
    return client.get("/plugin/desk", params=params).text.split(title, 1)[1].split("</section>", 1)[0]


def test_page_action_is_refused_outside_the_unit_it_names(make_app) -> None:
    desk = Desk()
    app = _app(make_app, desk)
    agent, head = Client(app), Client(app)
    agent.sign_in("a")
    head.sign_in("h")
    assert "ok=" in agent.post("/plugin/desk/act", {"key": "a-1"}).headers["location"]
    assert agent.post("/plugin/desk/act", {"key": "b-1"}).status_code == 403
    assert "err=" in agent.post("/plugin/desk/act", {"key": "zz"}).headers["location"]
    assert "ok=" in head.post("/plugin/desk/act", {"key": "b-1"}).headers["location"]
    assert desk.done == [("a-1", "a"), ("b-1", "h")]


def test_rows_of_other_units_are_left_out_and_a_lookup_waits_for_its_query(make_app) -> None:
    app = _app(make_app, Desk())
    agent, head = Client(app), Client(app)
    agent.sign_in("a")
    head.sign_in("h")
    listing = _section(agent, "LISTING")
    assert "one" in listing and "three" in listing and "two" not in listing
    assert "two" in _section(head, "LISTING")
    assert "<tbody>" not in _section(agent, "LOOKUP")  # nothing listed before a query
    found = _section(agent, "LOOKUP", q="a")
    assert "a-1" in found and "a-2" in found and 'value="a"' in found
    assert "b-1" not in _section(agent, "LOOKUP", q="b") and "b-1" in _section(head, "LOOKUP", q="b")
