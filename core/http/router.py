"""A small router for the HTTP listener: exact paths, one handler per method and path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


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
        """The body as an ``application/x-www-form-urlencoded`` form (Twilio's webhooks)."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """What a handler returns."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        """A JSON response (UTF-8, Chinese kept readable)."""
        return cls(status, json.dumps(data, ensure_ascii=False, default=str).encode(),
                   "application/json; charset=utf-8")

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
            return handler(request)
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
            raise ValueError(
                f"plugin {self.plugin!r}: route {path!r} must start with '/{self.plugin}/'"
            )
        super().add(method, path, handler)
