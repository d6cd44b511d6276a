"""Running a plugin's own functions in a test, as its hooks and commands run them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kefu.app import App
from kefu.db.engine import transaction


def in_plugin_tx(app: App, plugin: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(ctx, …)`` with ``plugin``'s context in one committed transaction; its result."""
    with transaction(app.sessions) as session:
        return fn(app.context(plugin, session), *args, **kwargs)
