"""``ctx.kpis(period)``: the month's case KPIs per plugin and person, as one plugin reads another's."""

from __future__ import annotations

from kefu.db.engine import transaction


def test_kpis_of_the_month_are_per_plugin_and_person(make_app, clock) -> None:
    app = make_app(plugins=["example"], config={"staff": {"people": {"li": {"name": "李", "email": "li@x.test"}}}})
    with transaction(app.sessions) as session:
        ctx = app.context("example", session)
        ctx.resolve(ctx.open_case(kind="request", title="一", owner="li"))
        ctx.open_case(kind="request", title="二", owner="li")
    with transaction(app.sessions) as session:
        rows = app.context("example", session).kpis(f"{clock.now():%Y-%m}")
        assert rows == app.context("example", session).kpis(f"{clock.now():%Y-%m}")
    person = next(r for r in rows if r["by"] == "person" and r["group"] == "example/li")
    assert (person["opened"], person["closed"], person["closure_rate"]) == (2, 1, 0.5)
    with transaction(app.sessions) as session:
        assert app.context("example", session).kpis("2020-01") == []
