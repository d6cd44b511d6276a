"""测温: station measurement sheets.

Below the threshold a low-temperature case opens; a good re-measurement resolves it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kefu.api import OPEN_STATES, Case, Customer
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import Household, Measurement


def open_low_temp_case(ctx: Ctx, account: str) -> Case | None:
    """The account's low-temperature case that is still being worked on, if any."""
    return (
        ctx.db()
        .scalars(
            select(Case)
            .join(Household, Household.customer_id == Case.customer_id)
            .where(Household.account == account, Case.kind == ctx.kind(kinds.LOW_TEMP), Case.state.in_(OPEN_STATES))
            .order_by(Case.id.desc())
        )
        .first()
    )


def record_measurement(ctx: Ctx, hh: Household, measured_at_utc: datetime, temp_c: float, source: str = "sheet") -> str:
    """Store one reading and apply the threshold rule; 'created' or 'unchanged' (already imported)."""
    cfg = ctx.config
    session = ctx.db()
    exists = session.scalar(
        select(Measurement.id).where(Measurement.account == hh.account, Measurement.measured_at == measured_at_utc)
    )
    if exists is not None:
        return "unchanged"
    m = Measurement(account=hh.account, station=hh.station, measured_at=measured_at_utc, temp_c=temp_c, source=source)
    session.add(m)
    session.flush()
    current = open_low_temp_case(ctx, hh.account)
    if rules.is_low_temperature(temp_c, cfg.temperature.threshold_c):
        if current is None:
            customer = session.get(Customer, hh.customer_id)
            current = ctx.open_case(
                kind=kinds.LOW_TEMP,
                title=f"室温 {temp_c:g}°C 低于 {cfg.temperature.threshold_c:g}°C",
                customer=customer,
                unit=hh.station,
                data={"measured_c": temp_c},
                actor="import",
                reason=f"测温 {temp_c:g}°C",
            )
        m.case_id = current.id
    elif current is not None and m.measured_at >= current.opened_at:
        # The re-measurement after the fix (调网、冲洗): the case is resolved and the callback follows.
        m.case_id = current.id
        ctx.record_event(
            current,
            "remeasured",
            actor="import",
            to_state="resolved",
            reason=f"复测 {temp_c:g}°C，已达标",
            data={"temp_c": temp_c},
        )
    return "created"
