"""A local HTTP endpoint that answers like Twilio's REST API for Messages (create, list).

``receive(...)`` holds an inbound message (a customer texting one of our numbers)
for the list, which filters by ``To``, ``From`` and ``DateSent>``/``DateSent<`` as
Twilio does, so the SMS polling mode can be tested against it.

Point the official client at it with ``[twilio] api_base`` (see
:mod:`kefu.senders.twilio_client`). It checks HTTP Basic auth like Twilio, answers
``400`` with code 21211 for numbers in ``invalid`` and 21610 for numbers in
``unsubscribed``, ``429`` (code 20429) for the next ``throttle`` requests, and can
post a signed delivery status callback (``deliver(sid, "delivered")``) the way
Twilio does. Resource shapes follow ../shared/twilio-oai/twilio_api_v2010.json.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TOKEN_SECRET = "twilio_token"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")


class TwilioApi:
    """The endpoint's state: messages created, and the failures it should answer with."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict[str, Any]] = []
        self.invalid: set[str] = set()
        self.unsubscribed: set[str] = set()
        self.throttle = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>`` — the ``[twilio] api_base`` to use."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def config(self, **twilio: Any) -> dict[str, Any]:
        """The ``[twilio]`` section pointing at this endpoint (the token is secret ``twilio_token``)."""
        return {
            "enabled": True,
            "account_sid": self.account_sid,
            "auth_token_secret": TOKEN_SECRET,
            "api_base": self.base,
            "from_number": "+8610690000",
            **twilio,
        }

    def start(self) -> TwilioApi:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ behaviour

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one Messages create request."""
        to = form.get("To", "")
        with self.lock:
            if self.throttle > 0:
                self.throttle -= 1
                return 429, _error(20429, "Too Many Requests", 429)
            if not to:
                return 400, _error(21604, "A 'To' phone number is required.", 400)
            if to in self.invalid:
                return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
            if to in self.unsubscribed:
                return 400, _error(21610, "Attempt to send to unsubscribed recipient", 400)
            if not form.get("Body"):
                return 400, _error(21602, "Message body is required.", 400)
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return 400, _error(21603, "A 'From' or 'MessagingServiceSid' parameter is required", 400)
            sid = "SM" + secrets.token_hex(16)
            now = format_datetime(datetime.now(UTC), usegmt=True)
            body = form["Body"]
            message: dict[str, Any] = {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": body,
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": str(_segments(body)),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {},
                "to": to,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                "status_callback": form.get("StatusCallback"),
            }
            self.messages.append(message)
        return 201, message

    def receive(self, from_: str, body: str, to: str = "+8610690000", date_sent: datetime | None = None) -> str:
        """Hold an inbound SMS from ``from_`` to our number ``to`` (sent now unless ``date_sent``); its sid."""
        sent = date_sent or datetime.now(UTC)
        stamp = format_datetime(sent.astimezone(UTC), usegmt=True)
        sid = "SM" + secrets.token_hex(16)
        with self.lock:
            self.messages.append(
                {
                    "account_sid": self.account_sid,
                    "api_version": "2010-04-01",
                    "body": body,
                    "date_created": stamp,
                    "date_sent": stamp,
                    "date_updated": stamp,
                    "direction": "inbound",
                    "error_code": None,
                    "error_message": None,
                    "from": from_,
                    "messaging_service_sid": None,
                    "num_media": "0",
                    "num_segments": str(_segments(body)),
                    "price": None,
                    "price_unit": "USD",
                    "sid": sid,
                    "status": "received",
                    "subresource_uris": {},
                    "to": to,
                    "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                    "status_callback": None,
                    "_sent": sent.astimezone(UTC),
                }
            )
        return sid

    def list_page(self, query: dict[str, str] | None = None) -> dict[str, Any]:
        """The Messages list (one page, newest first, as Twilio orders it), filtered like Twilio's."""
        with self.lock:
            items = [_public(m) for m in reversed(self.messages) if _matches(m, query or {})]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return {
            "messages": items,
            "end": max(len(items) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": 1000,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }

    def deliver(
        self, sid: str, status: str = "delivered", error_code: int | None = None, url: str | None = None
    ) -> int:
        """Post a signed status callback for message ``sid``, as Twilio would; the HTTP status."""
        found = next(m for m in self.messages if m["sid"] == sid)
        target = url or found["status_callback"]
        if not target:
            raise ValueError(f"message {sid} was created without a StatusCallback")
        params = {
            "MessageSid": sid,
            "MessageStatus": status,
            "AccountSid": self.account_sid,
            "To": found["to"],
            "From": found["from"] or "",
            "ApiVersion": "2010-04-01",
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return post_signed(target, params, self.auth_token)[0]


def post_signed(url: str, params: dict[str, str], auth_token: str, sign_url: str | None = None) -> tuple[int, bytes]:
    """POST a form to ``url`` signed as Twilio signs its webhooks; (HTTP status, body).

    ``sign_url`` is the URL Twilio believes it called (the public URL behind a proxy);
    it defaults to ``url``.
    """
    signature = RequestValidator(auth_token).compute_signature(sign_url or url, params)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def incoming_sms(base_url: str, auth_token: str, sid: str, sender: str, body: str, to: str = "+8610000000") -> int:
    """Deliver an incoming SMS to kefu's webhook at ``base_url`` as Twilio would; the HTTP status."""
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    return post_signed(base_url + "/channels/sms/twilio", params, auth_token)[0]


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _matches(message: dict[str, Any], query: dict[str, str]) -> bool:
    """Twilio's list filters: To, From, and DateSent>/DateSent< (a date, or a UTC time; by day)."""
    if query.get("To") and message["to"] != query["To"]:
        return False
    if query.get("From") and message["from"] != query["From"]:
        return False
    sent = message.get("_sent")
    if sent is None:
        return not (query.get("DateSent>") or query.get("DateSent<"))
    # Twilio compares dates, not times: "after" a moment includes that whole day.
    if query.get("DateSent>") and sent.date() < _day(query["DateSent>"]):
        return False
    return not (query.get("DateSent<") and sent.date() > _day(query["DateSent<"]))


def _day(value: str) -> Any:
    return datetime.strptime(value[:10], "%Y-%m-%d").date()


def _segments(body: str) -> int:
    from kefu.templating import sms_segments

    return sms_segments(body)


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(api: TwilioApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one small response must not wait for a delayed ACK

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{api.account_sid}:{api.auth_token}".encode()).decode()
            return self.headers.get("Authorization", "") == f"Basic {expected}"

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> bool:
            path = urllib.parse.urlsplit(self.path).path
            found = _MESSAGES.match(path)
            with api.lock:
                api.requests += 1
            if not found:
                self._reply(404, _error(20404, "The requested resource was not found", 404))
                return False
            if not self._authorised() or found.group(1) != api.account_sid:
                self._reply(401, _error(20003, "Authenticate", 401))
                return False
            return True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            if not self._route():
                return
            form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
            self._reply(*api.create(form))

        def do_GET(self) -> None:
            if self._route():
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                self._reply(200, api.list_page(query))

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def twilio_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioApi]:
    """A Twilio-compatible Messages endpoint on loopback; its token is secret ``twilio_token``."""
    from kefu.secrets import env_name

    api = TwilioApi().start()
    monkeypatch.setenv(env_name(TOKEN_SECRET), api.auth_token)
    try:
        yield api
    finally:
        api.stop()
