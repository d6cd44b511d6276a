"""/healthz and /metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kefu.health import health_report
from kefu.http.router import Request, Response, Router
from kefu.metrics import render_metrics

if TYPE_CHECKING:
    from kefu.app import App


def add_core_routes(router: Router, app: App) -> None:
    """Register the health and metrics endpoints."""

    def healthz(_request: Request) -> Response:
        report = health_report(app)
        return Response.json(report, 200 if report["ok"] else 503)

    def metrics(_request: Request) -> Response:
        return Response(200, render_metrics(app).encode(), "text/plain; version=0.0.4; charset=utf-8")

    router.add("GET", "/healthz", healthz)
    router.add("GET", "/metrics", metrics)
