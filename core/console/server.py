"""The ``[console]`` listener: uvicorn serving the console's Starlette app in a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import uvicorn

from kefu.config import ConfigError

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.console.writer import Writer

log = logging.getLogger("kefu.console")


class ConsoleServer:
    """uvicorn on ``[console] host:port`` (the socket bound at once, so a taken port fails the start)."""

    def __init__(self, app: App, writer: Writer | None = None) -> None:
        from kefu.console.web import build_console

        self.app = app
        cfg = app.settings.console
        self.asgi = build_console(app, writer)
        try:
            self.sock = socket.create_server((cfg.host, cfg.port), reuse_port=False)
        except OSError as exc:
            raise ConfigError(
                app.config_path,
                [
                    f"console: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc} "
                    "(set [console] port to a free port, or enabled = false)"
                ],
            ) from exc
        config = uvicorn.Config(
            self.asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name="kefu-console", daemon=True)

    def _serve(self) -> None:
        # Off the main thread uvicorn installs no signal handlers: the daemon keeps SIGTERM and SIGHUP.
        asyncio.run(self.server.serve(sockets=[self.sock]))

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return int(self.sock.getsockname()[1])

    def start(self) -> None:
        """Start serving."""
        self.thread.start()
        log.info("console listening on %s:%d", self.app.settings.console.host, self.port)

    def stop(self, while_waiting: Callable[[], object] | None = None) -> None:
        """Stop serving (requests in hand finish) and close the socket.

        ``while_waiting`` runs while the requests finish: the daemon drains the changes
        they wait for, which only its main thread (the caller) runs.
        """
        self.server.should_exit = True
        for _ in range(100):
            if while_waiting is not None:
                while_waiting()
            self.thread.join(timeout=0.1)
            if not self.thread.is_alive():
                break
        self.sock.close()
