"""How the one hook-call facade (kefu.plugin_calls) combines answers and applies its rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.api import CaseKind, Classification, PluginContext, Response, Route, hookimpl
from kefu.config import ConfigError
from kefu.http.server import build_router
from kefu.intake.message import InboundMessage
from kefu.plugin_host import PluginError


class Claimer:
    """Claims every item with a fixed score (None: no claim)."""

    def __init__(self, name: str, score: float | None) -> None:
        self.name, self.score, self.asked = name, score, 0

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [CaseKind(name=f"{ctx.name}.thing", title="事", prefix=ctx.name[:2].upper())]

    @hookimpl
    def kefu_classify(self, ctx: PluginContext) -> Classification | None:  # a subset of the spec's arguments
        self.asked += 1
        if self.score is None:
            return None
        return Classification(kind=f"{ctx.name}.thing", score=self.score)


def _item() -> InboundMessage:
    return InboundMessage(
        item_id=1,
        channel="maildir:inbox",
        kind="email",
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
        sender="a@example.com",
        subject="暖气漏水",
        text="请处理",
    )


def _classify(app, ask=None):
    return app.calls.classify(_item(), app.context, app.kinds, ask=ask)


def test_classify_asks_every_plugin_and_the_best_score_wins(make_app):
    low, high, none = Claimer("low", 0.4), Claimer("high", 0.9), Claimer("none", None)
    app = make_app(plugins=["low", "none", "high"], extra_plugins={"low": low, "high": high, "none": none})
    assert _classify(app).kind == "high.thing"
    assert (low.asked, none.asked, high.asked) == (1, 1, 1)


def test_classify_ties_go_to_the_plugin_enabled_first(make_app):
    first, second = Claimer("first", 1.0), Claimer("second", 1.0)
    app = make_app(plugins=["second", "first"], extra_plugins={"first": first, "second": second})
    assert _classify(app).kind == "second.thing"


def test_classify_asks_only_the_plugins_named_in_their_order(make_app):
    a, b, c = Claimer("aa", 1.0), Claimer("bb", 1.0), Claimer("cc", 2.0)
    app = make_app(plugins=["aa", "bb", "cc"], extra_plugins={"aa": a, "bb": b, "cc": c})
    assert _classify(app, ask=["bb", "aa"]).kind == "bb.thing"
    assert (a.asked, b.asked, c.asked) == (1, 1, 0)
    assert _classify(app, ask=[]) is None


def test_a_claim_on_another_plugins_kind_is_ignored(make_app):
    class Poacher(Claimer):
        @hookimpl
        def kefu_classify(self, ctx: PluginContext) -> Classification | None:
            return Classification(kind="honest.thing", score=5.0)

    app = make_app(
        plugins=["poacher", "honest"],
        extra_plugins={"poacher": Poacher("poacher", 1.0), "honest": Claimer("honest", 0.1)},
    )
    assert _classify(app).kind == "honest.thing"


class Routes:
    """Returns the routes it is built with."""

    def __init__(self, *routes: object) -> None:
        self.routes = list(routes)

    @hookimpl
    def kefu_http(self, ctx: PluginContext) -> list[object]:
        return self.routes


def _hello(request):
    return Response.text("你好")


def test_kefu_http_routes_are_served_under_the_plugins_path(make_app):
    app = make_app(plugins=["web"], extra_plugins={"web": Routes(Route("GET", "/web/hello", _hello))})
    assert ("GET", "/web/hello") in build_router(app).routes


@pytest.mark.parametrize(
    "route", [Route("GET", "/elsewhere", _hello), ("GET", "/web/x", _hello)], ids=["outside its path", "not a Route"]
)
def test_a_bad_route_refuses_the_start_naming_the_plugin(make_app, route):
    app = make_app(plugins=["web"], extra_plugins={"web": Routes(route)})
    with pytest.raises(PluginError, match="plugin 'web' failed in kefu_http"):
        build_router(app)


def test_a_raising_config_section_refuses_the_start(make_app):
    class Raises:
        @hookimpl
        def kefu_config_section(self):
            raise RuntimeError("no section today")

    with pytest.raises(ConfigError, match="plugin 'bad' failed in kefu_config_section"):
        make_app(plugins=["bad"], extra_plugins={"bad": Raises()})


def test_a_plugins_own_template_names_are_qualified_by_its_name(make_app):
    app = make_app(plugins=["heating"])
    ctx = app.context("heating")
    assert ctx.template("ack.sms.txt") == "heating/ack.sms.txt"
    assert ctx.template("core/escalation.txt") == "core/escalation.txt"
    assert "heating/ack.sms.txt" in app.calls.template_samples(app.context)


class Unprefixed:
    """Names its kind and its claim without its own name, as a plugin should."""

    @hookimpl
    def kefu_case_kinds(self) -> list[CaseKind]:
        return [CaseKind(name="thing", title="事", prefix="UP")]

    @hookimpl
    def kefu_classify(self) -> Classification:
        return Classification(kind="thing")


def test_a_plugins_kinds_are_named_without_its_name_and_stored_with_it(make_app):
    from kefu.db.engine import transaction

    app = make_app(plugins=["mine"], extra_plugins={"mine": Unprefixed()})
    assert "mine.thing" in app.kinds
    assert _classify(app).kind == "mine.thing"
    with transaction(app.sessions) as session:
        ctx = app.context("mine", session)
        case = ctx.open_case(kind="thing")
        assert (case.kind, ctx.kind_of(case), ctx.kind("thing")) == ("mine.thing", "thing", "mine.thing")
        assert app.context("other", session).kind_of(case) is None
