"""The HTTP listener: a threaded stdlib server in the background, loopback by default.

Webhooks, the hotline API, /healthz and /metrics are light; a framework would
double start-up time and memory for nothing a router of exact paths cannot do.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from kefu.config import ConfigError
from kefu.http.router import Request, Response, Router
from kefu.plugin_host import PluginError

if TYPE_CHECKING:
    from kefu.app import App

log = logging.getLogger("kefu.http")
MAX_BODY = 20 * 1024 * 1024


def build_router(app: App) -> Router:
    """The core routes plus every route the channels and enabled plugins add."""
    from kefu.channels.routes import add_channel_routes
    from kefu.http.core_routes import add_core_routes
    from kefu.outbound.routes import add_outbound_routes

    router = Router()
    add_core_routes(router, app)
    add_channel_routes(router, app)
    add_outbound_routes(router, app)
    # A registration hook: a plugin that raises (or returns a path outside /<plugin>/) refuses
    # the start, named in the error, rather than running without its routes.
    for plugin, route in app.calls.http_routes(app.context):
        try:
            router.add(route.method, route.path, route.handler)
        except ValueError as exc:  # a path registered twice
            raise PluginError(plugin, "kefu_http", exc) from exc
    return router


class HttpServer:
    """Serves the router in a background thread until stopped."""

    def __init__(self, app: App, router: Router | None = None) -> None:
        self.app = app
        self.router = router or build_router(app)
        handler = _handler_class(self.router)
        cfg = app.settings.http
        try:
            self.server = ThreadingHTTPServer((cfg.host, cfg.port), handler)
        except OSError as exc:
            raise ConfigError(
                app.config_path,
                [
                    f"http: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc} "
                    "(set [http] port to a free port, or enabled = false)"
                ],
            ) from exc
        self.server.daemon_threads = True
        self.server.handle_error = _log_error  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, name="kefu-http", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Start serving."""
        self.thread.start()
        log.info("HTTP listening on %s:%d", self.app.settings.http.host, self.port)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _log_error(request: object, client_address: object) -> None:
    """A connection that failed outside any handler (a client gone mid-request): logged, masked."""
    log.warning("HTTP connection from %s failed", client_address, exc_info=True)


def _handler_class(router: Router) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "kefu"

        def _serve(self) -> None:
            raw_length = (self.headers.get("Content-Length") or "0").strip()
            if not (raw_length.isascii() and raw_length.isdigit()):
                self.close_connection = True  # the body's end is unknown: the stream cannot be reused
                self._send(Response.text("bad request: Content-Length is not a number\n", 400))
                return
            length = int(raw_length)
            if length > MAX_BODY:
                self.close_connection = True
                self._send(Response.text("request too large\n", 413))
                return
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = Request(
                method=self.command,
                path=path,
                query=query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                client=self.client_address[0],
            )
            try:
                response = router.dispatch(request)
            except Exception:
                log.exception("HTTP %s %s failed", self.command, path)
                response = Response.text("internal error\n", 500)
            self._send(response)

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.client_address[0], *args)

    return Handler
