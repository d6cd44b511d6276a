"""One HTTP route a plugin returns from ``kefu_http`` (datasette's ``register_routes``, exact paths)."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.http.router import Handler


@dataclass(frozen=True)
class Route:
    """``method path`` served by ``handler``; a plugin's paths start with ``/<plugin name>/``."""

    method: str
    path: str
    handler: Handler
