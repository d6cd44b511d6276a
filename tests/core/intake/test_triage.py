"""Staff triage of what intake could not place: ``kefu inbound retry`` / ``dismiss`` and the console's 隔离 queue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.main import cli
from kefu.db.engine import transaction
from kefu.db.models import Attachment, Case, InboundItem
from kefu.intake.runner import run_intake
from kefu.testing.mail import build_mail, deliver_to_maildir


def _invoke(app: App, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"app": app})
    return result.exit_code, result.output


def _items(app: App) -> list[InboundItem]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(InboundItem).order_by(InboundItem.id)))


def test_an_unclaimed_mail_retried_after_the_inbox_gets_a_default_kind_opens_its_case(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app()
    photo = [("门.jpg", "image/jpeg", b"\xff\xd8jpeg")]
    deliver_to_maildir(maildir, build_mail(text="请问收费标准", attachments=photo))
    run_intake(app)
    [item] = _items(app)
    assert item.status == "unclaimed"
    fixed = heat_app(default_kind="heat.general")  # what staff changed in the config
    code, out = _invoke(fixed, "inbound", "retry", str(item.id), "--by", "kf")
    assert code == 0 and "back in line" in out
    run_intake(fixed)
    [item] = _items(fixed)
    assert item.status == "processed" and item.case_id is not None
    assert [t["action"] for t in item.data["triage"]] == ["retry"] and item.data["triage"][0]["actor"] == "kf"
    with transaction(fixed.sessions) as session:
        case = session.get(Case, item.case_id)
        assert case is not None and case.kind == "heat.general"
        # The photo is kept once, now with its case.
        assert [(a.filename, a.case_id) for a in session.scalars(select(Attachment))] == [("门.jpg", case.id)]


def test_a_quarantined_item_retried_at_once_is_quarantined_again_with_its_reason(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app()
    deliver_to_maildir(maildir, b"garbage without headers")
    run_intake(app)
    [item] = _items(app)
    code, out = _invoke(app, "inbound", "retry", str(item.id), "--now")
    assert code == 0 and f"item {item.id}: quarantined" in out and "no mail headers" in out


def test_dismiss_needs_a_reason_and_only_takes_items_waiting_for_triage(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app()
    deliver_to_maildir(maildir, b"garbage without headers")
    deliver_to_maildir(maildir, build_mail(text="暖气漏水"))
    run_intake(app)
    bad, good = _items(app)
    assert (bad.status, good.status) == ("quarantined", "processed")
    code, out = _invoke(app, "inbound", "dismiss", str(bad.id), str(good.id), "--reason", "垃圾邮件")
    assert code != 0 and f"{good.id} (processed) is not waiting for triage" in out
    assert _items(app)[0].status == "quarantined"  # all or none
    code, out = _invoke(app, "inbound", "dismiss", str(bad.id), "--reason", "垃圾邮件", "--by", "liu")
    assert code == 0
    bad = _items(app)[0]
    assert bad.status == "ignored" and bad.reason == "set aside by liu: 垃圾邮件"
    assert bad.data["triage"][0]["reason_was"].startswith("cannot parse")
    code, out = _invoke(app, "inbound", "retry", "999")
    assert code != 0 and "no inbound item 999" in out
