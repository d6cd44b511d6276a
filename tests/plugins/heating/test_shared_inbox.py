"""One inbox, several departments: heating and complaints both read the same Maildir.

Each plugin scores its claim (its words, the sender being its customer, an open case);
the best score wins and a tie goes to the plugin of the inbox's default kind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.config import ConfigError
from kefu.db.engine import transaction
from kefu.db.models import Case, Deadline, InboundItem, OutboxMessage
from kefu.passes import PassResult
from kefu.plugins.complaints.imports import import_homes
from kefu.plugins.heating import imports as heating_imports
from kefu.testing.files import write_csv
from kefu.testing.fixtures import merge
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import HEATING, HOUSEHOLD_HEADER, household_rows
from .conftest import STAFF as HEATING_STAFF

# The property department of tests/plugins/complaints/conftest.py, beside the heating one.
COMPLAINTS_STAFF = {
    "people": {
        "cs": {"name": "项目客服王", "email": "cs@example.com", "phone": "13900000001"},
        "eng": {"name": "维修工程师李", "email": "eng@example.com", "phone": "13900000002"},
        "mgr": {"name": "维修管理岗赵", "email": "mgr@example.com"},
        "head": {"name": "客服负责人孙", "email": "head@example.com"},
    }
}
COMPLAINTS: dict[str, Any] = {
    "roles": {
        "project_cs": ["cs"],
        "repair_engineer": ["eng"],
        "repair_manager": ["mgr"],
        "risk_control": ["head"],
        "head": ["head"],
    },
    "projects": {"JY": {"name": "锦园"}},
}
HOMES = (
    "项目编码,项目名称,楼栋,房号,业主姓名,手机,邮箱,交付日期\n"
    "JY,锦园,3,1201,张三,13700000099,zhang@example.com,2024-06-01\n"
)

HEATING_ADDRESSES = {p[k] for p in HEATING_STAFF["people"].values() for k in ("phone", "email") if k in p}


def _maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def shared(make_app: Callable[..., App], tmp_path: Path) -> Callable[..., tuple[App, dict[str, Path]]]:
    """``shared(inboxes)``: heating + complaints, one Maildir per named inbox (its config given),
    with the complaints owners' homes and the heating households imported."""

    def build(inboxes: dict[str, dict[str, Any]]) -> tuple[App, dict[str, Path]]:
        folders = {name: _maildir(tmp_path / name) for name in inboxes}
        staff = merge(HEATING_STAFF, {"people": COMPLAINTS_STAFF["people"]})
        app = make_app(
            plugins=["heating", "complaints"],
            config={
                "staff": staff,
                "heating": HEATING,
                "complaints": COMPLAINTS,
                "channels": {
                    "maildir": {
                        name: {"path": str(folders[name]), "poll_interval": "0s", **cfg}
                        for name, cfg in inboxes.items()
                    }
                },
            },
        )
        with transaction(app.sessions) as s:
            import_homes(s, HOMES.encode(), app.clock.now())
            heating_imports.import_households(
                app.context("heating", s), write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows())
            )
        return app, folders

    return build


def _cases(app: App) -> dict[str, Case]:
    with app.sessions() as s:
        rows = {c.title: c for c in s.scalars(select(Case))}
        s.expunge_all()
        return rows


def test_a_property_leak_in_a_shared_inbox_becomes_a_complaints_repair_and_pages_nobody_at_heating(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    # The inbox's default is heating's: a tie would go to heating, so only the scores decide.
    app, box = shared({"service": {"default_kind": "heating.general"}})
    deliver_to_maildir(
        box["service"],
        build_mail(sender="zhang@example.com", subject="卫生间漏水", text="3栋1201卫生间漏水，楼下也渗水了"),
    )
    run_pass(app)
    (case,) = _cases(app).values()
    assert case.kind == "complaints.repair.plumbing_leak" and case.data["home"] == "JY-3-1201"
    with app.sessions() as s:
        recipients = set(s.scalars(select(OutboxMessage.recipient)))
    assert recipients and not recipients & HEATING_ADDRESSES


def test_outage_and_fee_questions_become_heating_inquiries_with_their_reply_deadlines(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    app, box = shared({"service": {"default_kind": "complaints.inquiry"}})
    deliver_to_maildir(
        box["service"], build_mail(sender="new1@example.com", subject="停暖", text="请问什么时候来暖？我们楼停暖两天了")
    )
    deliver_to_maildir(
        box["service"], build_mail(sender="new2@example.com", subject="采暖费", text="请问采暖费在哪里交费，能开发票吗")
    )
    run_pass(app)
    cases = _cases(app)
    assert cases["停暖"].kind == "heating.outage_inquiry"
    assert cases["采暖费"].kind == "heating.fee_inquiry"
    with app.sessions() as s:
        due = {
            c.kind: d.due_at - c.opened_at
            for c, d in s.execute(
                select(Case, Deadline).join(Deadline, Deadline.case_id == Case.id).where(Deadline.name == "resolution")
            )
        }
    assert due == {"heating.outage_inquiry": timedelta(hours=4), "heating.fee_inquiry": timedelta(hours=24)}


def test_a_warranty_question_is_a_complaints_inquiry_not_a_repair_nor_a_heating_leak(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    app, box = shared({"service": {"default_kind": "heating.general"}})
    deliver_to_maildir(
        box["service"],
        build_mail(sender="zhang@example.com", subject="保修", text="咨询一下，卫生间漏水是否在保修期？"),
    )
    run_pass(app)
    assert [c.kind for c in _cases(app).values()] == ["complaints.inquiry"]


def test_a_channel_serving_only_complaints_never_asks_heating(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    app, box = shared({"property": {"plugins": ["complaints"]}})
    deliver_to_maildir(box["property"], build_mail(sender="a@example.com", subject="暖气不热", text="暖气不热，停暖了"))
    deliver_to_maildir(box["property"], build_mail(sender="b@example.com", subject="暖气片漏水", text="暖气片漏水了"))
    run_pass(app)
    # Heating would take both (a general complaint, a leak); asked alone, complaints takes the
    # leak as a plumbing repair and leaves the other unclaimed.
    assert [c.kind for c in _cases(app).values()] == ["complaints.repair.plumbing_leak"]
    with app.sessions() as s:
        assert s.scalars(select(InboundItem.status).where(InboundItem.subject == "暖气不热")).one() == "unclaimed"


def test_a_tie_goes_to_the_plugin_of_the_inbox_default_kind(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    app, box = shared({"heat": {"default_kind": "heating.general"}, "homes": {"default_kind": "complaints.repair"}})
    # 漏水 is a word of both plugins, of equal weight, from a sender neither knows.
    deliver_to_maildir(box["heat"], build_mail(sender="x@example.com", subject="一", text="漏水了"))
    deliver_to_maildir(box["homes"], build_mail(sender="y@example.com", subject="二", text="漏水了"))
    run_pass(app)
    cases = _cases(app)
    assert cases["一"].kind == "heating.leak"
    assert cases["二"].kind == "complaints.repair.plumbing_leak"


def test_a_known_customer_tips_a_tie_to_its_plugin(
    shared: Callable[..., tuple[App, dict[str, Path]]], run_pass: Callable[[App], PassResult]
) -> None:
    app, box = shared({"heat": {"default_kind": "heating.general"}})
    # zhang@example.com owns home JY-3-1201: the same words tie, the owner tips it to complaints.
    deliver_to_maildir(box["heat"], build_mail(sender="zhang@example.com", subject="一", text="漏水了"))
    run_pass(app)
    assert [c.kind for c in _cases(app).values()] == ["complaints.repair.plumbing_leak"]


def test_a_channel_naming_a_plugin_not_enabled_is_refused(make_app: Callable[..., App], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"channels\.maildir\.box\.plugins: 'heating' not in \[plugins\] enabled"):
        make_app(
            plugins=["complaints"],
            config={
                "staff": COMPLAINTS_STAFF,
                "complaints": COMPLAINTS,
                "channels": {"maildir": {"box": {"path": str(_maildir(tmp_path / "box")), "plugins": ["heating"]}}},
            },
        )
