"""``[sla]``: the defaults every deadline policy falls back to, the sweep, and the KPI mail."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from kefu.durations import Duration


class SlaSection(BaseModel):
    """Warnings, repeats, the sweep's batches, plugin-hook retries and the monthly KPI report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_at: float = Field(default=0.75, gt=0, lt=1, description="warn the owner at this share of the time")
    repeat_every: Duration = Field(
        default=timedelta(hours=1), description="after a breach, notify the next level this often"
    )
    max_repeats: int = Field(default=6, ge=0, description="repeats at the top level before falling silent")
    sweep_batch: int = Field(default=500, ge=1, le=10_000, description="deadlines claimed per transaction")
    hook_retry: Duration = Field(default=timedelta(minutes=1), description="first retry after a failing hook")
    hook_max_failures: int = Field(
        default=5, ge=1, description="after this many failures the deadline is flagged to staff"
    )
    report_to: list[str] = Field(
        default_factory=list,
        description="roles or people who get the monthly KPI report by email (empty: no mail)",
    )
    report_schedule: str = Field(default="0 8 1 * *", description="when the monthly KPI mail goes out")
