"""Commands behave as people expect: defaults, wording, one time zone per screen, addresses."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.testing.outbox import open_example_case, queue


def invoke(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def test_report_defaults_to_this_month_in_the_site_zone(make_app, clock) -> None:
    app = make_app()
    code, out = invoke(app, "report", "--json")
    assert code == 0 and json.loads(out)["period"] == "2026-11"
    clock.set(clock.now().replace(year=2026, month=11, day=30, hour=23, minute=30))  # UTC: 12-01 in Beijing
    code, out = invoke(app, "report")
    assert code == 0 and out.startswith("period 2026-12:")


def test_simulate_says_it_wrote_and_sent_nothing_and_that_jobs_would_fire(make_app) -> None:
    app = make_app()
    open_example_case(app)
    code, out = invoke(app, "simulate", "--until", "+2d")
    assert code == 0, out
    assert out.splitlines()[0].endswith("nothing was written or sent:")
    assert "cron: would fire" in out and "cron:done" not in out
    assert " ran for " not in out


def test_status_and_outbox_show_times_in_the_site_zone(outbound_app, run_pass) -> None:
    app = outbound_app()
    number = open_example_case(app)
    queue(
        app,
        number,
        key="s",
        channel="sms",
        recipient="+8613800000001",
        template="example/notice.txt",
        context={"text": "您好"},
    )
    run_pass(app)
    _code, out = invoke(app, "status")
    assert "(now 2026-11-02T09:00:00+08:00, Asia/Shanghai)" in out.splitlines()[0]
    _code, out = invoke(app, "outbox", "list")
    assert "2026-11-02T09:00+08:00" in out and "+00:00" not in out
    _code, out = invoke(app, "status", "--json")
    assert json.loads(out)["times"] == "UTC"


def test_letters_pending_shows_the_address_the_letter_was_printed_with(outbound_app, run_pass) -> None:
    app = outbound_app()
    number = open_example_case(app)
    queue(
        app,
        number,
        key="l",
        channel="letter",
        recipient="某租户",
        recipient_name="某租户",
        template="example/repair_notice.html",
        context={"due": "2026-11-10", "work": "外墙渗漏维修", "address": "北京市朝阳区示例路2号"},
    )
    run_pass(app)
    code, out = invoke(app, "letters", "pending")
    assert code == 0 and "北京市朝阳区示例路2号" in out
    (row,) = json.loads(invoke(app, "letters", "pending", "--json")[1])
    assert row["address"] == "北京市朝阳区示例路2号"
