"""Sign-in, sessions, CSRF and Origin: what keeps the console's state changes to its own staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kefu.console.auth import session_for
from kefu.db.models import Case, ConsoleAccount, ConsoleSession
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import ORIGIN, PASSWORD, Client


def _leak(app, tmp_path, run_pass, account: str = "CB-0001", text: str = "3号楼暖气片漏水，地上全是水") -> str:
    deliver_to_maildir(
        tmp_path / "maildir", build_mail(sender="zhang@example.com", subject=f"报修 户号：{account}", text=text)
    )
    run_pass(app)
    with app.sessions() as s:
        return s.scalars(select(Case.number).order_by(Case.id.desc())).first()


def test_a_page_without_a_session_goes_to_sign_in(console_app) -> None:
    c = Client(console_app())
    response = c.get("/queue/mine")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_a_wrong_password_is_refused_and_repeated_failures_back_off(console_app, clock) -> None:
    app = console_app()
    c = Client(app)
    for _ in range(5):
        assert c.sign_in("kf", "wrong password!").status_code == 401
    # Locked now: even the right password waits for the backoff, and says so.
    locked = c.sign_in("kf")
    assert locked.status_code == 401 and "秒后再试" in locked.text
    clock.advance(minutes=1, seconds=1)
    assert c.sign_in("kf").status_code == 303
    with app.sessions() as s:
        assert s.get(ConsoleAccount, "kf").failed == 0


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(console_app) -> None:
    c = Client(console_app())
    unknown, wrong = c.sign_in("nobody", PASSWORD), c.sign_in("kf", "wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码不正确" in unknown.text and "用户名或密码不正确" in wrong.text


def test_the_cookie_is_httponly_and_samesite_lax_and_secure_behind_tls(console_app) -> None:
    c = Client(console_app())
    cookie = c.sign_in("kf").headers["set-cookie"]
    assert "kefu_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie
    from starlette.testclient import TestClient

    from kefu.console.web import build_console

    tls_app = console_app(config={"console": {"public_origin": "https://kefu.example.cn"}})
    tls = Client(tls_app)
    tls.http = TestClient(build_console(tls_app), base_url="https://kefu.example.cn", follow_redirects=False)
    page = tls.http.get("/login")
    pre = page.cookies.get("kefu_pre")
    response = tls.http.post(
        "/login",
        data={"username": "kf", "password": PASSWORD, "csrf": pre},
        headers={"origin": "https://kefu.example.cn"},
    )
    assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_a_form_without_the_csrf_token_or_from_another_origin_is_refused(
    console_app, client, tmp_path, run_pass
) -> None:
    app = console_app()
    number = _leak(app, tmp_path, run_pass)
    c = client(app, "kf")
    no_token = c.http.post(f"/case/{number}/do/note", data={"text": "x"}, headers={"origin": ORIGIN})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    foreign = c.post(f"/case/{number}/do/note", {"text": "x"}, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and "Origin" in foreign.text
    neither = c.http.post(f"/case/{number}/do/note", data={"text": "x", "csrf": c.csrf})
    assert neither.status_code == 403
    assert c.post(f"/case/{number}/do/note", {"text": "留个备注"}).status_code == 303
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        notes = [e for e in case.events if e.type == "note"]
    assert [(e.actor, e.reason) for e in notes] == [("kf", "留个备注")]


def test_no_state_changes_on_get(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    number = _leak(app, tmp_path, run_pass)
    c = client(app, "kf")
    assert c.get(f"/case/{number}/do/resolve").status_code == 405
    assert c.get("/logout-all").status_code == 405


def test_sessions_live_in_the_database_and_end_everywhere(console_app, clock) -> None:
    app = console_app()
    first, second = Client(app), Client(app)
    first.sign_in("kf")
    second.sign_in("kf")
    assert first.get("/queue/mine").status_code == 200
    # A new app on the same database (a daemon restart): the cookie still works.
    again = Client(console_app(setup=False))
    again.http.cookies = first.http.cookies
    assert again.get("/queue/mine").status_code == 200
    # Sign out everywhere from the second browser: both are gone.
    assert second.post("/logout-all").status_code == 303
    assert first.get("/queue/mine").status_code == 303
    assert second.get("/queue/mine").status_code == 303
    with app.sessions() as s:
        assert all(r.revoked_at is not None for r in s.scalars(select(ConsoleSession)))


def test_idle_and_absolute_timeouts(console_app, clock) -> None:
    app = console_app()
    c = Client(app)
    c.sign_in("kf")
    clock.advance(hours=1, minutes=59)
    assert c.get("/queue/mine").status_code == 200  # used: the idle clock starts again
    clock.advance(hours=2, minutes=1)
    assert c.get("/queue/mine").status_code == 303  # idle for more than 2 h
    c.sign_in("kf")
    for _ in range(13):
        clock.advance(hours=1)
        c.get("/queue/mine")
    assert c.get("/queue/mine").status_code == 303  # 12 h after sign-in, however busy


def test_kefu_staff_sessions_lists_and_revokes(console_app, tmp_path, clock) -> None:
    from click.testing import CliRunner

    from kefu.cli.main import cli
    from kefu.testing.daemons import write_config

    app = console_app()
    c = Client(app)
    c.sign_in("kf")
    with app.sessions() as s:
        sid = s.scalars(select(ConsoleSession.id)).one()
    config = write_config(tmp_path / "kefu.toml", app_raw(app, tmp_path))
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(config), "staff", "sessions"], obj={"clock": clock})
    assert listed.exit_code == 0 and sid in listed.output, listed.output
    revoked = runner.invoke(cli, ["--config", str(config), "staff", "sessions", "--revoke", sid], obj={"clock": clock})
    assert revoked.exit_code == 0, revoked.output
    assert c.get("/queue/mine").status_code == 303
    changed = runner.invoke(
        cli,
        ["--config", str(config), "staff", "passwd", "kf", "--stdin"],
        input="another long one\n",
        obj={"clock": clock},
    )
    assert changed.exit_code == 0, changed.output
    assert Client(app).sign_in("kf", "another long one").status_code == 303


def app_raw(app, tmp_path):
    """The raw config the fixture built ``app`` from (for the CLI)."""
    from kefu.testing.fixtures import base_config, merge

    from .conftest import console_config

    return merge(base_config(tmp_path, app.settings.database_url(), ["heating"]), console_config(tmp_path))


def test_session_token_is_stored_hashed(console_app) -> None:
    app = console_app()
    c = Client(app)
    token = re.search(r"kefu_session=([^;]+)", c.sign_in("kf").headers["set-cookie"]).group(1).strip('"')
    with app.sessions() as s:
        row = s.scalars(select(ConsoleSession)).one()
        assert row.token_hash != token and session_for(s, app.settings.console, token, app.clock.now()) is not None


@pytest.mark.parametrize("path", ["/static/{v}/htmx.min.js", "/static/{v}/console.js", "/static/{v}/console.css"])
def test_static_files_are_versioned_and_cached(console_app, path) -> None:
    from starlette.testclient import TestClient

    from kefu.console.web import build_console

    asgi = build_console(console_app())
    version = asgi.app.state.console.version
    with TestClient(asgi) as http:
        response = http.get(path.format(v=version))
        assert response.status_code == 200 and "immutable" in response.headers["cache-control"]
        stale = http.get(path.format(v="old"))
        assert stale.headers["cache-control"] == "no-cache"
