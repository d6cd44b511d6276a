"""Fixtures for the staff console's tests: a heating department with two stations, console access,
households imported, and a signed-in client (Starlette's TestClient, or a browser over uvicorn)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2 for its TestClient; httpx is what the test extras install.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from kefu.app import App
from kefu.console.auth import set_password
from kefu.console.web import build_console
from kefu.db.engine import transaction
from kefu.plugins.heating import imports
from kefu.testing.fixtures import merge

PASSWORD = "correct horse battery"
ORIGIN = "http://testserver"

STAFF = {
    "people": {
        "zhang": {"name": "张师傅", "phone": "+8613800000001", "email": "zhang@heat.test"},
        "li": {"name": "李师傅", "phone": "+8613800000002", "email": "li@heat.test"},
        "wang": {"name": "王师傅", "phone": "+8613800000003", "email": "wang@heat.test"},
        "zhao": {"name": "赵经理", "phone": "+8613800000004", "email": "zhao@heat.test"},
        "zhou": {"name": "周经理", "phone": "+8613800000005", "email": "zhou@heat.test"},
        "liu": {"name": "刘主任", "phone": "+8613800000006", "email": "liu@heat.test"},
        "chen": {"name": "燃料部陈", "email": "fuel@heat.test"},
        "sun": {"name": "化验室孙", "email": "lab@heat.test"},
        "resp1": {"name": "包保人吴", "phone": "+8613800000009", "email": "wu@heat.test"},
        "kf": {"name": "客服小何", "email": "he@heat.test"},
    },
    "rotas": {
        "station-S01": {
            "shifts": [
                {"who": "zhang", "days": "daily", "start": "08:00", "end": "20:00"},
                {"who": "li", "days": "daily", "start": "20:00", "end": "08:00"},
            ],
        },
        "station-S02": {"fallback": ["wang"]},
    },
    # The console's roles: the heads see all of heating, the agent too (with customer data),
    # each station's duty staff only their station's cases, masked.
    "access": {
        "liu": {"role": "head", "plugins": ["heating"]},
        "kf": {"role": "agent", "plugins": ["heating"]},
        "zhang": {"role": "duty", "plugins": ["heating"], "units": ["S01"]},
        "wang": {"role": "duty", "plugins": ["heating"], "units": ["S02"]},
    },
}

HEATING = {
    "cs_centre_head": "liu",
    "fuel_department": "chen",
    "coal_lab": {"lab_head": "sun"},
    "hotline_office": "rexian@city.test",
    "branches": {"B1": {"name": "长白分公司", "head": "zhao"}, "B2": {"name": "城南分公司", "head": "zhou"}},
    "stations": {
        "S01": {"name": "长白一号换热站", "branch": "B1", "responsible": "resp1", "far_end_buildings": ["9"]},
        "S02": {"name": "城南锅炉房", "kind": "锅炉房", "branch": "B2", "responsible": "resp1"},
    },
}

HOUSEHOLDS = [
    ["户号", "户主", "电话", "地址", "楼栋", "所站", "分公司", "供热面积", "缴费状态"],
    ["CB-0001", "张先生", "13900000001", "长白小区3号楼1单元101", "3", "S01", "B1", "88", "已缴"],
    ["CB-0002", "李女士", "13900000002", "长白小区3号楼1单元102", "3", "S01", "B1", "90", "已缴"],
    ["CN-0001", "王先生", "13900000011", "城南小区5号楼201", "5", "S02", "B2", "75", "已缴"],
]


def write_households(path: Path) -> Path:
    """The households CSV (two in S01, one in S02)."""
    path.write_text("\n".join(",".join(r) for r in HOUSEHOLDS) + "\n", encoding="utf-8")
    return path


def console_config(tmp_path: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Staff, heating, a Maildir inbox and the console on a free port."""
    base = {
        "staff": STAFF,
        "heating": HEATING,
        "console": {"enabled": True, "port": 0},
        "channels": {"maildir": {"repairs": {"path": str(tmp_path / "maildir"), "poll_interval": "0s"}}},
    }
    return merge(base, extra or {})


@pytest.fixture
def console_app(make_app: Callable[..., App], tmp_path: Path) -> Callable[..., App]:
    """``console_app(config={...})``: a migrated heating app with households and passwords set."""

    def build(config: dict[str, Any] | None = None, *, setup: bool = True) -> App:
        for sub in ("new", "cur", "tmp"):
            (tmp_path / "maildir" / sub).mkdir(parents=True, exist_ok=True)
        app = make_app(plugins=["heating"], config=console_config(tmp_path, config))
        if not setup:  # the same database again (a restart): nothing to import, no password reset
            return app
        with transaction(app.sessions) as session:
            imports.import_households(app.context("heating", session), write_households(tmp_path / "hh.csv"))
            for key in STAFF["access"]:
                set_password(session, key, PASSWORD, app.clock.now())
        return app

    return build


class Client:
    """A TestClient signed in as one person, sending the console's Origin and CSRF token."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.http = TestClient(build_console(app), base_url=ORIGIN, follow_redirects=False)
        self.csrf = ""

    def sign_in(self, key: str, password: str = PASSWORD) -> Any:
        page = self.http.get("/login")
        pre = page.cookies.get("kefu_pre") or self.http.cookies.get("kefu_pre")
        response = self.http.post(
            "/login",
            data={"username": key, "password": password, "csrf": pre},
            headers={"origin": ORIGIN},
        )
        if response.status_code == 303:
            self.csrf = self.token()
        return response

    def token(self) -> str:
        import re

        page = self.http.get("/account")
        found = re.search(r'data-csrf="([^"]+)"', page.text)
        return found.group(1) if found else ""

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        headers = {"origin": ORIGIN, **kwargs.pop("headers", {})}
        return self.http.post(path, data={"csrf": self.csrf, **(data or {})}, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, **kwargs)


@pytest.fixture
def client() -> Iterator[Callable[[App, str], Client]]:
    """``client(app, "kf")``: a TestClient signed in as ``kf``."""
    made: list[Client] = []

    def sign_in(app: App, key: str) -> Client:
        c = Client(app)
        assert c.sign_in(key).status_code == 303
        made.append(c)
        return c

    yield sign_in
    for c in made:
        c.http.close()
