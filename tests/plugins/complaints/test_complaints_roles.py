"""Chain targets are the plugin's role names, read per project by the kinds' ``resolve_role``."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Deadline, OutboxMessage
from kefu.plugins.complaints import kinds
from kefu.sla.cases import open_case
from kefu.sla.escalation import apply_default, resolve_level
from tests.plugins.complaints.conftest import COMPLAINTS, STAFF


def _app(make_app: Callable[..., App]) -> App:
    staff = {"people": {**STAFF["people"], "mgr2": {"name": "锦园维修管理岗", "email": "mgr2@example.com"}}}
    projects = {
        "JY": {
            **COMPLAINTS["projects"]["JY"],
            "roles": {**COMPLAINTS["roles"], "repair_manager": ["mgr2"], "project_cs": ["jy-duty"]},
        },
        "XY": {"name": "新园"},
    }
    return make_app(plugins=["complaints"], config={"staff": staff, "complaints": {**COMPLAINTS, "projects": projects}})


def test_resolve_role_reads_the_projects_roles_and_the_core_chain_walks_them(make_app: Callable[..., App]) -> None:
    app = _app(make_app)
    with transaction(app.sessions) as s:
        ctx = app.context("complaints", s)
        case = open_case(ctx, kind=kinds.REPAIR, title="墙皮脱落", unit="JY", data={"text": "墙皮脱落"})
        kind = app.kinds.get(case.kind)
        assert kind is not None and kind.resolve_role is not None
        assert kind.resolve_role("repair_manager", case, ctx) == ["mgr2"]  # the project's own
        assert kind.resolve_role("head", case, ctx) == ["head"]
        other = open_case(ctx, kind=kinds.REPAIR, title="墙皮脱落", unit="XY", data={"text": "墙皮脱落"})
        assert kind.resolve_role("repair_manager", other, ctx) == ["mgr"]  # no project roles: [complaints.roles]
        assert kind.resolve_role("project_cs", case, ctx) == ["rota:jy-duty"]  # not a person: a rota
        assert kind.resolve_role("cs", case, ctx) is None  # not a role of the plugin: [staff] answers
        assert resolve_level(ctx, kind, case, "repair_manager", ctx.now()) == ["mgr2"]
        policy = kind.policy("resolution")
        assert policy is not None and [lv.who for lv in policy.chain] == ["repair_engineer", "repair_manager", "head"]
        # The core's own chain (the sweep's fallback when the plugin's hook keeps failing).
        row = s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.name == "resolution")).one()
        row.stage, row.next_at = "warned", row.due_at
        assert apply_default(ctx, row, case, kind, policy) == "breach"
        assert apply_default(ctx, row, case, kind, policy) == "escalation"
        s.flush()
        told = set(
            s.scalars(
                select(OutboxMessage.recipient).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.audience == "staff"
                )
            )
        )
    assert {"eng@example.com", "mgr2@example.com"} <= told and "mgr@example.com" not in told
