"""The ``self`` console role: an employee sees no case at all, only their plugins' pages."""

from __future__ import annotations

from kefu.console.auth import set_password
from kefu.db.engine import transaction

from .conftest import Client
from .test_console_cases import _mail

EMPLOYEE = {"staff": {"access": {"resp1": {"role": "self", "plugins": ["heating"]}}}}


def test_self_role_sees_no_case_but_its_plugins_page(console_app, client, tmp_path, run_pass) -> None:
    app = console_app(EMPLOYEE)
    with transaction(app.sessions) as s:
        set_password(s, "resp1", "correct horse battery", app.clock.now())
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    me = Client(app)
    assert me.sign_in("resp1").status_code == 303
    for path in ("/queue/unassigned", "/queue/due_soon", "/search?q=漏水"):
        assert number not in me.get(path).text, path
    assert me.get(f"/case/{number}").status_code == 403
    page = me.get("/plugin/heating")
    assert page.status_code == 200 and "本人" in page.text
    assert "停缓供开始" not in page.text  # an action for other roles is not offered
    assert number in client(app, "kf").get("/search?q=漏水").text
    me.http.close()
