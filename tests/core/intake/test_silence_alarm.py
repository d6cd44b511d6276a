"""A channel silent past its silence_alarm tells staff once per silence, through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kefu.app import App
from kefu.channels.silence import alert_silent_channels
from kefu.db.engine import transaction
from kefu.db.models import ChannelState, OutboxMessage
from kefu.health import health_report
from kefu.intake.runner import run_intake
from kefu.testing.mail import build_mail
from kefu.testing.mail import deliver_to_maildir as deliver

STAFF = {
    "people": {
        "wang": {"name": "王工", "email": "wang@example.com"},
        "li": {"name": "李班长", "phone": "+8613900000001"},
    },
    "roles": {"duty": ["wang"], "night": ["li"]},
}


def _alarms(app: App) -> list[OutboxMessage]:
    with transaction(app.sessions) as session:
        return list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.audience == "staff").order_by(OutboxMessage.id))
        )


def test_silence_is_told_to_the_configured_role_once_per_episode(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app(config={"staff": STAFF, "channels": {"alarm_staff": ["duty"]}}, silence_alarm="10m")
    assert run_intake(app) == 0  # read successfully: the silence is measured from here
    started = app.clock.now()
    maildir.rename(maildir.with_name("gone"))  # the mailbox cannot be read any more
    app.clock.advance(minutes=9)
    run_intake(app)
    assert _alarms(app) == []  # within the limit
    app.clock.advance(minutes=2)
    run_intake(app)
    [alarm] = _alarms(app)
    assert (alarm.channel, alarm.recipient, alarm.template) == ("email", "wang@example.com", "core/channel_silent.txt")
    assert alarm.idem_key == f"channel-silent/maildir:service/{started.isoformat()}/wang/email"
    assert "maildir:service" in (alarm.subject or "") and "11 分钟" in alarm.body
    assert "FileNotFoundError" in alarm.body  # the last error says why
    for _ in range(3):  # the same silence goes on: nothing more
        app.clock.advance(minutes=30)
        run_intake(app)
    assert len(_alarms(app)) == 1

    maildir.with_name("gone").rename(maildir)  # fixed: read again, the episode ends
    app.clock.advance(minutes=10)
    deliver(maildir, build_mail(text="暖气不热"))
    assert run_intake(app) == 1
    again = app.clock.now()
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=15)
    run_intake(app)
    _first, second = _alarms(app)
    assert second.idem_key == f"channel-silent/maildir:service/{again.isoformat()}/wang/email"


def test_a_channel_names_its_own_staff_and_sms_reaches_those_without_email(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app(
        config={"staff": STAFF, "channels": {"alarm_staff": ["duty"]}}, silence_alarm="10m", alarm_staff=["night"]
    )
    run_intake(app)
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=11)
    run_intake(app)
    [alarm] = _alarms(app)
    assert (alarm.channel, alarm.recipient, alarm.template) == ("sms", "+8613900000001", "core/channel_silent.sms.txt")
    assert "maildir:service" in alarm.body


def test_silence_without_alarm_staff_is_still_logged_and_marked(
    heat_app: Callable[..., App], maildir: Path, caplog
) -> None:
    app = heat_app(silence_alarm="10m")
    run_intake(app)
    maildir.rename(maildir.with_name("gone"))
    app.clock.advance(minutes=11)
    run_intake(app)
    assert _alarms(app) == []
    assert "nobody to tell that channel maildir:service is silent" in caplog.text


def _check(app: App) -> dict:
    [check] = [c for c in health_report(app)["checks"] if c["name"] == "channel:maildir:service"]
    return check


def test_a_channel_never_read_alarms_once_its_first_try_is_past_the_limit(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    config = {"staff": STAFF, "channels": {"alarm_staff": ["duty"]}}
    maildir.rename(maildir.with_name("gone"))  # mistyped from the first start: never read
    app = heat_app(config=config, silence_alarm="10m", create=False)
    first = app.clock.now()
    run_intake(app)
    with transaction(app.sessions) as session:
        state = session.get(ChannelState, "maildir:service")
        assert state is not None and state.last_success_at is None
        assert state.cursor["first_tried_at"] == first.isoformat()
    check = _check(app)
    assert not check["ok"] and check["detail"].startswith("never read successfully, first tried 0s ago")
    app.clock.advance(minutes=10)
    run_intake(app)
    assert _alarms(app) == []  # not past the limit yet
    assert not _check(app)["detail"].startswith("SILENT")

    app.clock.advance(minutes=1)
    run_intake(app)
    [alarm] = _alarms(app)
    assert alarm.idem_key == f"channel-silent/maildir:service/{first.isoformat()}/wang/email"
    assert "从未成功读取" in (alarm.subject or "") and "从未成功读取过" in alarm.body
    assert "11 分钟" in alarm.body and "FileNotFoundError" in alarm.body
    check = _check(app)
    assert not check["ok"] and check["detail"].startswith("SILENT: never read successfully, first tried 660s ago")
    assert "last error: FileNotFoundError" in check["detail"] and "staff told: wang" in check["detail"]

    app.clock.advance(minutes=30)
    run_intake(app)  # a second pass of the same silence
    restarted = heat_app(config=config, silence_alarm="10m", create=False)  # same database
    restarted.clock.advance(minutes=30)
    run_intake(restarted)
    assert len(_alarms(app)) == 1

    maildir.with_name("gone").rename(maildir)  # fixed: the first successful read ends the episode
    deliver(maildir, build_mail(text="暖气不热"))
    restarted.clock.advance(minutes=1)  # past the retry backoff
    assert run_intake(restarted) == 1
    assert _check(restarted)["ok"]
    with transaction(app.sessions) as session:
        state = session.get(ChannelState, "maildir:service")
        assert state is not None and not {"first_tried_at", "silence_alerted"} & set(state.cursor)
    read = restarted.clock.now()
    maildir.rename(maildir.with_name("gone"))
    restarted.clock.advance(minutes=11)
    run_intake(restarted)
    _first, second = _alarms(app)  # a new silence, measured from the read, alarms again
    assert second.idem_key == f"channel-silent/maildir:service/{read.isoformat()}/wang/email"
    assert "从未" not in second.body and "11 分钟未读取" in (second.subject or "")


def test_a_never_read_channel_from_before_first_tries_were_kept_is_measured_from_the_next_pass(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    maildir.rename(maildir.with_name("gone"))
    app = heat_app(config={"staff": STAFF, "channels": {"alarm_staff": ["duty"]}}, silence_alarm="10m", create=False)
    with transaction(app.sessions) as session:  # the row an older kefu left: an error, no first try
        session.add(
            ChannelState(
                name="maildir:service",
                cursor={},
                last_error="FileNotFoundError: x",
                last_error_at=app.clock.now() - timedelta(days=3),
            )
        )
    assert _check(app)["detail"] == "never read successfully; last error: FileNotFoundError: x"
    watched = app.clock.now()
    with transaction(app.sessions) as session:
        assert alert_silent_channels(app, session, watched) == []  # no alarm for days it did not watch
    app.clock.advance(minutes=11)
    run_intake(app)
    [alarm] = _alarms(app)
    assert alarm.idem_key == f"channel-silent/maildir:service/{watched.isoformat()}/wang/email"


def test_the_sms_alarm_of_a_never_read_channel_says_so(heat_app: Callable[..., App], maildir: Path) -> None:
    maildir.rename(maildir.with_name("gone"))
    app = heat_app(config={"staff": STAFF}, silence_alarm="10m", alarm_staff=["li"], create=False)
    run_intake(app)
    app.clock.advance(minutes=11)
    run_intake(app)
    [alarm] = _alarms(app)
    assert alarm.channel == "sms" and "从未成功读取" in alarm.body and "11 分钟" in alarm.body
