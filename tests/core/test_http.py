"""The HTTP listener: /healthz (503 when a loop stalls), /metrics, loopback, plugin routes."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from kefu.config import ConfigError, HttpSection
from kefu.hookspecs import hookimpl
from kefu.http.route import Route
from kefu.http.router import Request, Response
from kefu.http.server import HttpServer
from kefu.passes import record_heartbeat


def get(server: HttpServer, path: str, method: str = "GET") -> tuple[int, str, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.fixture
def serve():
    servers: list[HttpServer] = []

    def start(app) -> HttpServer:
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class Pinger:
    """A plugin that adds one route under its own prefix."""

    @hookimpl
    def kefu_http(self, ctx):
        def ping(request: Request) -> Response:
            return Response.json({"plugin": ctx.name, "q": request.query})

        return [Route("GET", "/pinger/ping", ping)]


class Trespasser:
    """A plugin that tries to take a path outside /<its name>/."""

    @hookimpl
    def kefu_http(self, ctx):
        return [Route("GET", "/healthz2", lambda r: Response.text("mine"))]


def test_loopback_is_the_default():
    assert HttpSection().host == "127.0.0.1"


def test_healthz_is_200_while_loops_progress_and_503_when_one_stalls(make_app, clock, serve):
    app = make_app()
    for loop in ("intake", "sweep", "dispatch"):
        record_heartbeat(app, loop, "0 handled")
    server = serve(app)
    status, ctype, body = get(server, "/healthz")
    assert status == 200, body
    assert ctype.startswith("application/json") and json.loads(body)["ok"] is True
    clock.advance(app.settings.scheduler.watchdog_stall + timedelta(seconds=1))
    record_heartbeat(app, "intake")
    record_heartbeat(app, "dispatch")
    status, _ctype, body = get(server, "/healthz")
    report = json.loads(body)
    assert status == 503
    stalled = [c["name"] for c in report["checks"] if not c["ok"]]
    assert stalled == ["loop:sweep"]


def test_healthz_names_a_loop_that_never_ran(make_app, serve):
    server = serve(make_app())
    status, _ctype, body = get(server, "/healthz")
    assert status == 503
    assert {"name": "loop:sweep", "ok": False, "detail": "has never run", "last_success": None} in json.loads(body)[
        "checks"
    ]


def test_metrics_are_prometheus_text(make_app, serve, run_pass):
    app = make_app()
    run_pass(app)
    status, ctype, body = get(serve(app), "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? -?[0-9.e+-]+$')
    for line in body.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.match(line), line
    assert re.search(r'^kefu_loop_last_progress_timestamp_seconds\{loop="sweep"\} \d+', body, re.M)
    assert "# TYPE kefu_outbox gauge" in body and "kefu_process_cpu_seconds " in body


def test_a_plugin_route_is_served_under_its_name(make_app, serve):
    app = make_app(plugins=["example", "pinger"], extra_plugins={"pinger": Pinger()})
    server = serve(app)
    status, _ctype, body = get(server, "/pinger/ping?x=1")
    assert status == 200 and json.loads(body) == {"plugin": "pinger", "q": "x=1"}
    assert get(server, "/pinger/ping", "POST")[0] == 405
    assert get(server, "/nowhere")[0] == 404


def test_a_plugin_route_outside_its_prefix_refuses_the_start(make_app):
    app = make_app(plugins=["trespasser"], extra_plugins={"trespasser": Trespasser()})
    with pytest.raises(Exception, match=r"plugin 'trespasser'.*must start with '/trespasser/'"):
        HttpServer(app)


def test_a_taken_port_is_an_error_for_people(make_app, serve):
    first = serve(make_app())
    app = make_app(config={"http": {"port": first.port}})
    with pytest.raises(ConfigError, match=r"http: cannot listen on 127\.0\.0\.1:\d+.*\[http\] port"):
        HttpServer(app)
