"""A mailbox with a wrong password from the first start: staff are told once, and again after a later silence."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.channels.silence import alert_silent_channels
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.health import health_report
from kefu.intake.runner import run_intake
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail

CONFIG = {
    "staff": {"people": {"wang": {"name": "王工", "email": "wang@example.com"}}},
    "channels": {"alarm_staff": ["wang"]},
}


def _alarms(app: App) -> list[OutboxMessage]:
    with transaction(app.sessions) as session:
        return list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.audience == "staff").order_by(OutboxMessage.id))
        )


def _check(app: App) -> dict:
    [check] = [c for c in health_report(app)["checks"] if c["name"] == "channel:imap:service"]
    return check


def _look(app: App) -> list[str]:
    with transaction(app.sessions) as session:
        return alert_silent_channels(app, session, app.clock.now())


def test_a_wrong_password_from_the_first_start_alarms_once(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_WRONG_PW", "not-the-password")
    app = imap_app(config=CONFIG, password_secret="wrong_pw", silence_alarm="10m")
    first = app.clock.now()
    assert run_intake(app) == 0  # the login fails; recorded, not raised
    assert not _check(app)["ok"] and "never read successfully" in _check(app)["detail"]
    # Later passes only look for silence, without logging in again: Dovecot delays each further
    # failed login from one address by seconds (its auth penalty).
    app.clock.advance(minutes=10)
    assert _look(app) == []  # not past the limit yet
    app.clock.advance(minutes=1)
    assert _look(app) == ["imap:service"]
    [alarm] = _alarms(app)
    assert alarm.idem_key == f"channel-silent/imap:service/{first.isoformat()}/wang/email"
    assert "从未成功读取" in (alarm.subject or "") and "imap:service" in alarm.body
    assert "最后错误" in alarm.body and "LoginError" in alarm.body
    assert _check(app)["detail"].startswith("SILENT: never read successfully")
    app.clock.advance(minutes=30)
    assert _look(app) == []  # the same silence goes on: nothing more
    assert len(_alarms(app)) == 1

    fixed = imap_app(config=CONFIG, silence_alarm="10m")  # the password corrected, the config reloaded
    dovecot.append(build_mail(text="暖气不热"))
    assert run_intake(fixed) == 1
    assert _check(fixed)["ok"]
    read = fixed.clock.now()
    dovecot.stop()
    fixed.clock.advance(minutes=11)
    run_intake(fixed)
    _first, second = _alarms(fixed)
    assert second.idem_key == f"channel-silent/imap:service/{read.isoformat()}/wang/email"
    assert "从未" not in second.body
