"""What a plugin's hook receives as ``ctx``: its name, its config, the clock, and a session."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from kefu.app import App


@dataclass(frozen=True)
class PluginContext:
    """The calling plugin's view of the daemon.

    ``config`` is the plugin's own validated section; ``session`` is set for hooks
    called inside a transaction, and everything the plugin adds through it
    commits or rolls back with the change that called the hook.
    """

    name: str
    app: App
    session: Session | None = None

    @property
    def config(self) -> Any:
        """The plugin's validated config section (None if it declares none)."""
        return self.app.settings.plugin_section(self.name)

    @property
    def settings(self) -> Any:
        """The whole validated config (core sections included)."""
        return self.app.settings

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone (Asia/Shanghai by default)."""
        return self.app.settings.tz

    @property
    def log(self) -> logging.Logger:
        """The plugin's logger, ``kefu.plugins.<name>``."""
        return logging.getLogger(f"kefu.plugins.{self.name}")

    def now(self) -> datetime:
        """The current time from the daemon's one clock (aware UTC)."""
        return self.app.clock.now()

    def local_now(self) -> datetime:
        """The current time in the configured zone."""
        return self.now().astimezone(self.tz)

    def with_session(self, session: Session) -> PluginContext:
        """The same context bound to ``session``."""
        return replace(self, session=session)

    def db(self) -> Session:
        """The session of the current transaction; an error if the hook runs outside one."""
        if self.session is None:
            raise RuntimeError(f"plugin {self.name!r}: this hook runs outside a transaction")
        return self.session

    # -- cases (the SLA engine's API, in this context's transaction) ----------

    def open_case(self, **kwargs: Any) -> Any:
        """Open a case: :func:`kefu.sla.cases.open_case` with this context."""
        from kefu.sla.cases import open_case

        return open_case(self, **kwargs)

    def record_event(self, case: Any, type: str, **kwargs: Any) -> Any:
        """Record an event on ``case``: :func:`kefu.sla.cases.record_event` with this context."""
        from kefu.sla.cases import record_event

        return record_event(self, case, type, **kwargs)

    def transition(self, case: Any, to_state: str, **kwargs: Any) -> Any:
        """Move ``case`` to ``to_state``: :func:`kefu.sla.cases.transition` with this context."""
        from kefu.sla.cases import transition

        return transition(self, case, to_state, **kwargs)

    def set_due(self, case: Any, name: str, due_at: datetime, **kwargs: Any) -> Any:
        """Give a running deadline an explicit due time: :func:`kefu.sla.cases.set_due` with this context."""
        from kefu.sla.cases import set_due

        return set_due(self, case, name, due_at, **kwargs)
