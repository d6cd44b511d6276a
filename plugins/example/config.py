"""``[example]``: the example plugin's section."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from kefu.api import Duration, PluginContext


class ExampleConfig(BaseModel):
    """Keywords that claim an item, and how often the heartbeat job runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keywords: list[str] = Field(default_factory=lambda: ["example", "示例"])
    heartbeat_schedule: str = "*/5 * * * *"
    reply_within: Duration = timedelta(hours=24)


Ctx = PluginContext[ExampleConfig]
"""What this plugin's hooks and functions receive as ``ctx``: the context typed by its section."""
