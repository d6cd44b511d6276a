"""``kefu complaints …`` through click's CliRunner on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.cases_cmds import cases
from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Customer, OutboxMessage
from kefu.plugins.complaints.cli import complaints
from kefu.sla.cases import find_case, open_case

HOMES = (
    "项目编码,项目名称,楼栋,房号,业主姓名,手机,邮箱,交付日期\n"
    "JY,锦园,3,1201,张三,13800000001,zhang@example.com,2024-06-01\n"
    "JY,锦园,3,1202,李四,not-a-phone,,2024-06-01\n"
)


def _run(app: App, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(complaints, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def _open_repair(app: App) -> str:
    with transaction(app.sessions) as s:
        owner = s.scalars(select(Customer).where(Customer.ref == "JY-3-1201")).one()
        return open_case(
            app.context("complaints", s),
            kind="complaints.repair.plumbing_leak",
            title="卫生间漏水",
            customer=owner,
            data={"text": "卫生间漏水"},
            actor="customer",
        ).number


def test_import_step_contractor_accept_resolve_callback_kpi_scorecard(complaints_app: App, tmp_path: Path) -> None:
    app = complaints_app
    csv = tmp_path / "homes.csv"
    csv.write_bytes(HOMES.encode("gb18030"))
    code, out = _run(app, "import", "homes", str(csv))
    assert "1 homes created" in out and f"{csv}:3: phone" in out
    code, out = _run(app, "import", "homes", str(csv))
    assert "0 homes created" in out and "1 unchanged" in out
    number = _open_repair(app)

    code, out = _run(app, "step", number, "--visit-at", "2026-11-03 10:00")
    assert code == 0 and out.strip() == f"{number}: 现场查看"
    with app.sessions() as s:
        visit = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.template == "complaints/repair_visit.txt", OutboxMessage.channel == "sms"
            )
        ).one()
    assert "11月03日 10:00" in visit.body
    code, out = _run(app, "step", number, "--visit-at", "tomorrow")
    assert code == 2 and "write e.g." in out
    for step in ("责任判定", "方案制定", "工作指派"):
        assert _run(app, "step", number) == (0, f"{number}: {step}\n")

    code, out = _run(app, "assign-contractor", number, "nobody")
    assert code == 1 and "unknown contractor 'nobody'" in out and "hengan" in out
    code, out = _run(app, "assign-contractor", number, "hengan", "--due", "5d", "--instructions", "重做防水层")
    assert code == 0 and "contractor job WX-" in out
    job = out.split("contractor job ")[1].split(",")[0]
    code, out = _run(app, "resolve", number)
    assert code == 1 and "收方验收 outstanding" in out and "kefu complaints accept JOB" in out
    assert _run(app, "contractor-done", job)[0] == 0
    assert _run(app, "accept", job, "--note", "业主在场") == (0, f"{job}: accepted (合格)\n")
    assert _run(app, "accept", job)[0] == 1  # only once
    code, out = _run(app, "resolve", number, "--defect", "--cause", "防水层施工")
    assert code == 0 and "callback survey queued" in out
    assert _run(app, "callback", number, "7")[0] == 1  # not 1–5
    assert _run(app, "callback", number, "5") == (0, f"{number}: score 5 recorded\n")
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.state == "closed" and case.satisfaction == 5

    code, out = _run(app, "kpi", "--period", "2026-11", "--json")
    rows = {(r["scope"], r["name"]): r for r in json.loads(out)}
    assert rows[("project", "JY")]["opened"] == 1 and rows[("project", "JY")]["closure_rate"] == "100.0%"
    assert rows[("engineer", "eng")]["satisfaction"] == "5.00"
    code, out = _run(app, "scorecard", "--period", "2026-11", "--json")
    (card,) = json.loads(out)
    assert card["name"] == "eng" and card["closed"] == 1 and card["timeliness"] == "100.0%"
    code, out = _run(app, "defects", "--period", "2026-11", "--json")
    (defect,) = json.loads(out)
    assert defect["trade"] == "防水" and defect["cause"] == "防水层施工" and defect["cases"] == number
    code, out = _run(app, "step", "BX-2099-999999")
    assert code == 1 and "no complaints case" in out


def test_compensation_commands(complaints_app: App, tmp_path: Path) -> None:
    app = complaints_app
    csv = tmp_path / "homes.csv"
    csv.write_text(HOMES, encoding="utf-8")
    _run(app, "import", "homes", str(csv))
    number = _open_repair(app)
    code, out = _run(app, "compensation", "open", number, "--party", "hengan")
    assert code == 0 and "compensation PF-" in out
    comp = out.split("compensation ")[1].split(" ")[0]
    assert _run(app, "compensation", "evidence", comp, "业主口述记录")[0] == 0
    code, out = _run(app, "compensation", "pay", comp, "--payee", "张三")
    assert code == 1 and "责任方函件" in out
    assert _run(app, "compensation", "agree", comp, "1200")[0] == 0
    with app.sessions() as s:
        case = find_case(s, comp)
        assert (
            case is not None and case.step == "责任方函件" and case.data["evidence"][0]["description"] == "业主口述记录"
        )
        keys = {r.idem_key for r in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))}
    assert f"{comp}/party_letter/letter" in keys and f"{comp}/party_letter/email" in keys


def test_core_cases_resolve_and_close_refused_until_the_contractors_acceptance(
    complaints_app: App, tmp_path: Path
) -> None:
    app = complaints_app
    csv = tmp_path / "homes.csv"
    csv.write_text(HOMES, encoding="utf-8")
    _run(app, "import", "homes", str(csv))
    number = _open_repair(app)
    code, out = _run(app, "assign-contractor", number, "hengan", "--due", "5d")
    job = out.split("contractor job ")[1].split(",")[0]

    def core(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cases, list(args), obj={"app": app})
        return result.exit_code, result.stdout + result.stderr

    # The repair kinds' guard holds for the core's commands too, not only `kefu complaints resolve`.
    for command in ("resolve", "close"):
        code, out = core(command, number)
        assert code == 1 and "收方验收 outstanding" in out and job in out, out
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.state == "in_progress"
        assert not s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.to_state.in_(("resolved", "closed")))
        ).all()
    assert _run(app, "accept", job)[0] == 0
    code, out = core("resolve", number)
    assert code == 0, out
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.state in ("resolved", "callback") and case.step == "维修关闭"
        assert case.data["acceptance_pending"] == []
