"""A small router for the HTTP listener: exact paths, one handler per method and path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

MAX_FORM_FIELDS = 1000  # Twilio sends a few dozen; more is not a webhook


class BadRequest(ValueError):
    """The request cannot be read (a body that is not the form or JSON it claims): HTTP 400."""


@dataclass
class Request:
    """One HTTP request as handlers see it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client: str = ""

    def header(self, name: str, default: str = "") -> str:
        """A header's value, looked up case-insensitively."""
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        """The body as an ``application/x-www-form-urlencoded`` form (Twilio's webhooks).

        :class:`BadRequest` when it is not UTF-8 or not a form.
        """
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
        except ValueError as exc:
            raise BadRequest(f"the body is not a UTF-8 form: {exc}") from exc

    def json(self) -> Any:
        """The body parsed as JSON (:class:`BadRequest`, a ValueError, if it is not)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from exc
        except RecursionError as exc:
            raise BadRequest("the body is JSON nested too deeply") from exc


@dataclass
class Response:
    """What a handler returns."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A JSON response (UTF-8, Chinese kept readable)."""
        return cls(
            status,
            json.dumps(data, ensure_ascii=False, default=str).encode(),
            "application/json; charset=utf-8",
            headers or {},
        )

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        """A plain-text response."""
        return cls(status, text.encode("utf-8"))


Handler = Callable[[Request], Response]


class Router:
    """Routes requests by method and exact path; plugins add theirs under ``/<plugin>/``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Register ``handler`` for ``method path``; a path registered twice is an error."""
        key = (method.upper(), path)
        if key in self.routes:
            raise ValueError(f"route {method} {path} is registered twice")
        self.routes[key] = handler

    def dispatch(self, request: Request) -> Response:
        """Find and call the handler; 404 and 405 otherwise."""
        handler = self.routes.get((request.method, request.path))
        if handler is not None:
            try:
                return handler(request)
            except BadRequest as exc:
                return Response.text(f"bad request: {exc}\n", 400)
        if any(path == request.path for _m, path in self.routes):
            return Response.text("method not allowed\n", 405)
        return Response.text("not found\n", 404)


class PluginRouter(Router):
    """The router as one plugin's ``kefu_http`` sees it: only paths under ``/<plugin>/``."""

    def __init__(self, router: Router, plugin: str) -> None:
        super().__init__()
        self.routes = router.routes  # shared: what the plugin adds is served
        self.plugin = plugin

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Register a route of this plugin; a path outside ``/<plugin>/`` is an error."""
        if not path.startswith(f"/{self.plugin}/"):
            raise ValueError(f"plugin {self.plugin!r}: route {path!r} must start with '/{self.plugin}/'")
        super().add(method, path, handler)
