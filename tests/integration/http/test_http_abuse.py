"""Every HTTP endpoint against hostile input over the real loopback listener: never a 500.

Wrong, malformed or non-ASCII tokens and signatures get 401/403 like any wrong
one; unreadable bodies get 400; no response carries a traceback. A hypothesis
fuzz sends arbitrary methods, headers (as raw bytes) and bodies to every route
the router serves (core, channels, senders, and a plugin's), sometimes with the
right token or a valid signature so that the bodies reach the handlers.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from kefu.app import App
from kefu.hookspecs import hookimpl
from kefu.http.route import Route
from kefu.http.router import Request, Response
from kefu.http.server import HttpServer

TWILIO_TOKEN = "twilio-auth-token-for-tests"
HOTLINE_TOKEN = "call-centre-token"
SMS_PATH, HOTLINE_PATH, STATUS_PATH = (
    "/channels/sms/twilio",
    "/channels/hotline/calls",
    "/twilio/status",
)


class Echo:
    """A plugin with a route of its own that reads a JSON body."""

    @hookimpl
    def kefu_http(self, ctx):
        def echo(request: Request) -> Response:
            return Response.json({"got": request.json()})

        return [Route("POST", "/echo/json", echo)]


@pytest.fixture
def served(make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[App, HttpServer]]:
    """The app with every HTTP channel on, served on a free loopback port."""
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("KEFU_HOTLINE_TOKEN", HOTLINE_TOKEN)
    app = make_app(
        plugins=["example", "echo"],
        extra_plugins={"echo": Echo()},
        config={
            "twilio": {
                "enabled": True,
                "account_sid": "AC" + "0" * 32,
                "auth_token_secret": "twilio_token",
                "status_callback": "http://127.0.0.1:1" + STATUS_PATH,
            },
            "outbound": {"sms_sender": "twilio"},
            "channels": {
                "sms": {"enabled": True},
                "hotline": {"enabled": True, "token_secret": "hotline_token"},
            },
        },
    )
    server = HttpServer(app)
    server.start()
    try:
        yield app, server
    finally:
        server.stop()


def request(
    server: HttpServer, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b""
) -> tuple[int, bytes]:
    """One request with header values sent as raw bytes (http.client would refuse non-Latin-1 str)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        names = {name.lower() for name, _ in headers}
        conn.putrequest(method, path, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_no_crash(status: int, body: bytes, path: str) -> None:
    assert status < 500 or (status == 503 and path.startswith("/healthz")), (status, body[:300])
    assert b"Traceback" not in body and b'File "' not in body, body[:300]


@pytest.fixture
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    failed = [r for r in caplog.records if r.name == "kefu.http" and r.levelno >= logging.ERROR]
    assert not failed, [r.getMessage() for r in failed]


BAD_BEARERS = [
    "Bearer 令牌".encode(),  # UTF-8 bytes, read by the server as Latin-1
    "Bearer tökén".encode("latin-1"),
    b"Bearer \xff\xfe\x00",
    b"Bearer",
    b"Bearer ",
    b"bearer wrong",
    b"Basic dXNlcjpwYXNz",
    b"\x80\x81",
    b"",
    b"Bearer " + HOTLINE_TOKEN.encode() + b"\xe4\xb8\xad",
]


def test_a_malformed_bearer_token_is_401_not_500(served, no_handler_errors) -> None:
    _app, server = served
    for authorization in BAD_BEARERS:
        status, body = request(
            server,
            "POST",
            HOTLINE_PATH,
            [("Authorization", authorization), ("Content-Type", b"application/json")],
            b"{}",
        )
        assert status == 401, (authorization, body)
        assert json.loads(body) == {"error": "bad or missing bearer token"}


BAD_SIGNATURES = [
    "签名".encode(),
    "sïgnature".encode("latin-1"),
    b"\xff" * 28,
    b"=",
    b"",
    b"A" * 10_000,
]


def test_a_malformed_twilio_signature_is_403_not_500(served, no_handler_errors) -> None:
    _app, server = served
    form = urllib.parse.urlencode({"MessageSid": "SM1", "MessageStatus": "delivered", "Body": "暖气"}).encode()
    for path in (SMS_PATH, STATUS_PATH):
        for signature in BAD_SIGNATURES:
            status, body = request(
                server,
                "POST",
                path,
                [
                    ("X-Twilio-Signature", signature),
                    ("Content-Type", b"application/x-www-form-urlencoded"),
                ],
                form,
            )
            assert status == 403, (path, signature, body)


def test_a_forged_host_header_is_403_not_500(served, no_handler_errors) -> None:
    _app, server = served
    for host in (b"127.0.0.1:notaport", b"[::1", "主机".encode(), b"a:1:2", b"h:99999999"):
        status, body = request(
            server,
            "POST",
            SMS_PATH,
            [("Host", host), ("X-Twilio-Signature", b"abc")],
            b"MessageSid=SM2&Body=x",
        )
        assert status == 403, (host, body)


def test_a_malformed_content_length_is_400_or_413(served) -> None:
    _app, server = served
    for length in (b"abc", b"-1", b"1e3", "１２".encode(), b"99999999999999999999999"):
        status, body = request(server, "POST", HOTLINE_PATH, [("Content-Length", length)], b"")
        assert status in (400, 413), (length, body)


def test_a_body_that_is_not_utf8_is_400(served, no_handler_errors) -> None:
    _app, server = served
    token = [("Authorization", b"Bearer " + HOTLINE_TOKEN.encode())]
    assert request(server, "POST", HOTLINE_PATH, token, b"\xff\xfe{")[0] == 400
    signed = [("X-Twilio-Signature", b"abc")]
    assert request(server, "POST", SMS_PATH, signed, b"Body=\xff\xfe")[0] == 400
    assert request(server, "POST", "/echo/json", [], b"[" * 100_000)[0] == 400


def test_a_nul_byte_in_a_signed_sms_or_an_authorised_call_is_no_500(served, no_handler_errors) -> None:
    # PostgreSQL refuses NUL in text columns; the request still gets its answer.
    _app, server = served
    params = {"MessageSid": "SM\x00nul", "From": "+86138\x0012345678", "Body": "暖气\x00不热"}
    url = f"http://127.0.0.1:{server.port}{SMS_PATH}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params).encode()
    status, body = request(
        server,
        "POST",
        SMS_PATH,
        [("X-Twilio-Signature", signature)],
        urllib.parse.urlencode(params).encode(),
    )
    assert status == 200, body
    bearer = [("Authorization", b"Bearer " + HOTLINE_TOKEN.encode())]
    call = {"caller": "13812345678", "category": "跑冒滴漏", "text": "漏水\x00了"}
    status, body = request(server, "POST", HOTLINE_PATH, bearer, json.dumps(call).encode())
    assert status == 200, body
    # A NUL inside the caller makes it no phone number: refused by name, not a 500.
    call["caller"] = "138\x0012345678"
    status, body = request(server, "POST", HOTLINE_PATH, bearer, json.dumps(call).encode())
    assert status == 422 and b"caller" in body, body


# ---- the fuzz ---------------------------------------------------------------------------------

HEADER_NAMES = [
    "Authorization",
    "X-Twilio-Signature",
    "Content-Type",
    "Host",
    "Accept",
    "Cookie",
    "X-Forwarded-For",
    "User-Agent",
]
header_bytes = st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
call_fields = st.sampled_from(["call_id", "caller", "at", "category", "address", "account", "text", "operator"])
calls = st.dictionaries(call_fields, json_values | st.text(max_size=30), max_size=8)
hotline_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    calls.map(lambda c: json.dumps(c, ensure_ascii=False).encode()),
    st.lists(calls, max_size=3).map(lambda cs: json.dumps({"calls": cs}, ensure_ascii=False).encode()),
    st.binary(max_size=300),
)
form_fields = st.dictionaries(
    st.sampled_from(
        [
            "MessageSid",
            "SmsSid",
            "From",
            "To",
            "Body",
            "MessageStatus",
            "ErrorCode",
            "NumMedia",
            "AccountSid",
        ]
    )
    | st.text(max_size=8),
    st.text(max_size=60),
    max_size=8,
)


@st.composite
def hostile_requests(draw: st.DrawFn, routes: list[tuple[str, str]], port: int) -> dict[str, Any]:
    """A request to a served route (or a near miss), hostile in headers and body."""
    method, path = draw(st.sampled_from(routes))
    if draw(st.integers(0, 9)) == 0:  # now and then a near miss: another method or path
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
        path = draw(st.sampled_from([path + "/", path + "x", "/" + path.strip("/").upper()]))
    query = draw(st.sampled_from(["", "", "?a=1", "?bodySHA256=abc", "?%ff%fe", "?" + "x" * 500]))
    headers = [
        (name, draw(header_bytes)) for name in draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=4, unique=True))
    ]
    form: dict[str, str] | None = None
    if path == HOTLINE_PATH:
        body = draw(hotline_bodies)
        if draw(st.booleans()):
            headers = [h for h in headers if h[0] != "Authorization"]
            headers.append(("Authorization", b"Bearer " + HOTLINE_TOKEN.encode()))
    elif path in (SMS_PATH, STATUS_PATH):
        form = draw(form_fields)
        body = draw(st.one_of(st.just(urllib.parse.urlencode(form).encode()), st.binary(max_size=200)))
    else:
        body = draw(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
    signed = form is not None and draw(st.booleans())
    return {
        "method": method,
        "path": path + query,
        "headers": headers,
        "body": body,
        "form": form if signed else None,
    }


def sign(server: HttpServer, req: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Replace the signature and Host with a valid signature of the form for the path signed."""
    path = req["path"]
    url = ("http://127.0.0.1:1" if path.startswith(STATUS_PATH) else f"http://127.0.0.1:{server.port}") + path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, req["form"])
    body = urllib.parse.urlencode(req["form"]).encode()
    req["body"] = body
    kept = [h for h in req["headers"] if h[0] not in ("X-Twilio-Signature", "Host", "Content-Length")]
    return [
        *kept,
        ("Host", f"127.0.0.1:{server.port}".encode()),
        ("X-Twilio-Signature", signature.encode()),
    ]


def test_every_endpoint_survives_hostile_headers_and_bodies(served, no_handler_errors) -> None:
    _app, server = served
    routes = sorted(server.router.routes)
    assert {
        ("POST", SMS_PATH),
        ("POST", HOTLINE_PATH),
        ("POST", STATUS_PATH),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("POST", "/echo/json"),
    } <= set(routes)
    seen: dict[int, int] = {}

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(req=hostile_requests(routes, server.port))
    def fuzz(req: dict[str, Any]) -> None:
        headers = sign(server, req) if req["form"] is not None else req["headers"]
        status, body = request(server, req["method"], req["path"], headers, req["body"])
        seen[status] = seen.get(status, 0) + 1
        assert_no_crash(status, body, req["path"])

    fuzz()
    print("statuses:", dict(sorted(seen.items())))
    assert request(server, "GET", "/metrics", [])[0] == 200  # still serving
