"""Real daemons for tests and benchmarks: a config file, a notify socket, a ``kefu run`` process.

* :func:`toml_dumps` writes the plain config dicts tests build (tables, strings,
  numbers, booleans, lists) as TOML.
* :class:`NotifyListener` is a real ``AF_UNIX`` datagram socket to hand to a daemon
  as ``$NOTIFY_SOCKET``; it records every sd_notify message with its arrival time.
* :class:`DaemonProcess` runs ``kefu run`` (the installed console script), or, with
  ``plugins``, the same daemon with plugin modules loaded from files, through
  ``python -m kefu.testing.daemons`` (how a deliberately broken or slow test plugin
  gets into a real process without being installed as an entry point).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)  # JSON strings are valid TOML basic strings
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def toml_dumps(data: Mapping[str, Any], _prefix: str = "") -> str:
    """Write nested dicts as TOML: plain keys first, then one ``[table]`` per sub-dict."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        if isinstance(value, Mapping):
            name = f"{_prefix}{_toml_key(key)}"
            out += f"\n[{name}]\n" + toml_dumps(value, name + ".")
    return out


def write_config(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as the TOML config file ``path`` and return the path."""
    path.write_text(toml_dumps(data), encoding="utf-8")
    return path


class NotifyListener:
    """A real sd_notify socket: collects ``(monotonic time, {KEY: VALUE})`` per datagram."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="notify-listener", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def received(self, key: str, value: str | None = None) -> list[tuple[float, dict[str, str]]]:
        """Every message that carried ``key`` (with ``value``, if given)."""
        with self._lock:
            return [(at, m) for at, m in self.messages if key in m and (value is None or m[key] == value)]

    def wait_for(self, key: str, value: str = "1", *, count: int = 1, timeout: float = 15.0) -> float:
        """Wait until ``count`` messages carried ``key=value``; return when the last arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(key, value)
            if len(got) >= count:
                return got[count - 1][0]
            time.sleep(0.02)
        raise TimeoutError(f"no {count}× {key}={value} on {self.path} within {timeout}s; got {self.messages}")

    def close(self) -> None:
        """Stop reading and remove the socket."""
        self._closed = True
        self._thread.join(timeout=1)
        self.sock.close()
        self.path.unlink(missing_ok=True)


def kefu_command() -> list[str]:
    """The installed ``kefu`` console script beside this Python (or ``python -m`` it)."""
    script = Path(sys.executable).parent / "kefu"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kefu.cli.main"]


class DaemonProcess:
    """One ``kefu run`` subprocess with its own notify socket; stderr goes to a log file."""

    def __init__(
        self,
        config: Path,
        workdir: Path,
        *,
        name: str = "kefu",
        plugins: Mapping[str, Path] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.notify = NotifyListener(workdir / f"{name}.notify")
        if plugins:
            cmd = [sys.executable, "-m", "kefu.testing.daemons", "--config", str(config)]
            for plugin, path in plugins.items():
                cmd += ["--plugin", f"{plugin}={path}"]
        else:
            cmd = [*kefu_command(), "--config", str(config), "run"]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHDOG_", "NOTIFY_"))}
        full_env.update({"NOTIFY_SOCKET": str(self.notify.path), "PYTHONUNBUFFERED": "1"})
        full_env.update(env or {})
        self._log = self.log_path.open("wb")
        self.started_at = time.monotonic()
        # A process group of its own: whatever the daemon forks can be found (and cleaned up)
        # after the daemon itself was killed.
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        return self.proc.pid

    def wait_ready(self, timeout: float = 20.0) -> float:
        """Wait for READY=1; return seconds since the process was started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                at = self.notify.wait_for("READY", timeout=0.2)
            except TimeoutError:
                continue
            return at - self.started_at
        raise TimeoutError(f"{self.name} never became ready (exit {self.proc.poll()}); its log:\n{self.log()}")

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the daemon."""
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM and wait; return (exit status, seconds it took to exit)."""
        began = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL (no chance to clean up) and reap."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def survivors(self) -> list[int]:
        """Processes of the daemon's group still alive besides the daemon: after a kill -9,
        children that outlived it (orphans)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.proc.pid:
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":  # pgrp; zombies are gone
                found.append(int(entry.name))
        return found

    def log(self) -> str:
        """Everything the daemon wrote so far."""
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Kill the daemon if it still runs, and any child that outlived it; release the socket and log."""
        if self.proc.poll() is None:
            self.kill()
        for pid in self.survivors():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()
        self.notify.close()


def _load_module(path: str) -> object:
    spec = importlib.util.spec_from_file_location(f"kefu_test_plugin_{Path(path).stem}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load plugin module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """``python -m kefu.testing.daemons --config F --plugin name=/path/hooks.py``: the daemon
    with extra, uninstalled plugins (for tests only)."""
    from kefu.daemon import serve
    from kefu.logs import setup_logging
    from kefu.plugin_host import PluginInfo, discover

    parser = argparse.ArgumentParser(prog="python -m kefu.testing.daemons")
    parser.add_argument("--config", required=True)
    parser.add_argument("--plugin", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args(argv)
    setup_logging()
    available = dict(discover())
    for spec in args.plugin:
        name, _, path = spec.partition("=")
        available[name] = PluginInfo(name=name, module=_load_module(path), version="test", distribution="test")
    return serve(args.config, available=available)


if __name__ == "__main__":
    sys.exit(main())
