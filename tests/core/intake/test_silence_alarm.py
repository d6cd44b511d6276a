"""A channel silent past its silence_alarm tells staff once per silence, through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.intake.runner import run_intake
from kefu.testing.mail import build_mail
from kefu.testing.mail import deliver_to_maildir as deliver

STAFF = {"people": {"wang": {"name": "王工", "email": "wang@example.com"},
                    "li": {"name": "李班长", "phone": "+8613900000001"}},
         "roles": {"duty": ["wang"], "night": ["li"]}}


def _alarms(app: App) -> list[OutboxMessage]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.audience == "staff")
                                    .order_by(OutboxMessage.id)))


def test_silence_is_told_to_the_configured_role_once_per_episode(
        heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app(config={"staff": STAFF, "channels": {"alarm_staff": ["duty"]}}, silence_alarm="10m")
    assert run_intake(app) == 0  # read successfully: the silence is measured from here
    started = app.clock.now()
    maildir.rename(maildir.with_name("gone"))  # the mailbox cannot be read any more
    app.clock.advance(minutes=9)  # type: ignore[attr-defined]
    run_intake(app)
    assert _alarms(app) == []  # within the limit
    app.clock.advance(minutes=2)  # type: ignore[attr-defined]
    run_intake(app)
    [alarm] = _alarms(app)
    assert (alarm.channel, alarm.recipient, alarm.template) == ("email", "wang@example.com",
                                                                "core/channel_silent.txt")
    assert alarm.idem_key == f"channel-silent/maildir:service/{started.isoformat()}/wang/email"
    assert "maildir:service" in (alarm.subject or "") and "11 分钟" in alarm.body
    assert "FileNotFoundError" in alarm.body  # the last error says why
    for _ in range(3):  # the same silence goes on: nothing more
        app.clock.advance(minutes=30)  # type: ignore[attr-defined]
        run_intake(app)
    assert len(_alarms(app)) == 1

    maildir.with_name("gone").rename(maildir)  # fixed: read again, the episode ends
    app.clock.advance(minutes=10)  # type: ignore[attr-defined]
    deliver(maildir, build_mail(text="暖气不热"))
    assert run_intake(app) == 1
    again = app.clock.now()
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=15)  # type: ignore[attr-defined]
    run_intake(app)
    _first, second = _alarms(app)
    assert second.idem_key == f"channel-silent/maildir:service/{again.isoformat()}/wang/email"


def test_a_channel_names_its_own_staff_and_sms_reaches_those_without_email(
        heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app(config={"staff": STAFF, "channels": {"alarm_staff": ["duty"]}},
                   silence_alarm="10m", alarm_staff=["night"])
    run_intake(app)
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=11)  # type: ignore[attr-defined]
    run_intake(app)
    [alarm] = _alarms(app)
    assert (alarm.channel, alarm.recipient, alarm.template) == ("sms", "+8613900000001",
                                                                "core/channel_silent.sms.txt")
    assert "maildir:service" in alarm.body


def test_silence_without_alarm_staff_is_still_logged_and_marked(
        heat_app: Callable[..., App], maildir: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    app = heat_app(silence_alarm="10m")
    run_intake(app)
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=11)  # type: ignore[attr-defined]
    run_intake(app)
    assert _alarms(app) == []
    assert "nobody to tell that channel maildir:service is silent" in caplog.text
