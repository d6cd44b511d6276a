"""The pure day rules, without a database: bands from config, absence over 2 h, 缺卡, 代签."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kefu.plugins.hr import rules
from kefu.plugins.hr.config import HrConfig, ShiftConfig

CFG = HrConfig()
SHIFT = rules.Schedule.of(ShiftConfig())


def m(text: str) -> int:
    h, mi = text.split(":")
    return int(h) * 60 + int(mi)


def day(*punches: str, cfg: HrConfig = CFG, **kw: object) -> rules.DayOutcome:
    return rules.day_result(cfg, SHIFT, True, [(m(p), "") for p in punches], **kw)  # type: ignore[arg-type]


def test_late_bands_default_to_the_seed_and_60_to_120_is_a_configurable_default() -> None:
    amounts = {
        mins: [
            x.get("amount") for x in day(f"{8 + (30 + mins) // 60:02d}:{(30 + mins) % 60:02d}", "13:20", "17:40").lines
        ]
        for mins in (4, 5, 14, 15, 59, 60, 120)
    }
    assert amounts == {4: [], 5: ["10"], 14: ["10"], 15: ["30"], 59: ["30"], 60: ["30"], 120: ["30"]}
    assert [b.seed for b in CFG.late.bands] == [True, True, False]
    cfg = HrConfig.model_validate(
        {
            "late": {
                "bands": [
                    {"from_minutes": 5, "to_minutes": 15, "amount": 10},
                    {"from_minutes": 15, "to_minutes": 60, "amount": 30},
                    {"from_minutes": 60, "to_minutes": 121, "amount": 50, "seed": False},
                ]
            }
        }
    )
    assert day("09:31", "13:20", "17:40", cfg=cfg).lines[0]["amount"] == "50"


def test_late_or_early_over_two_hours_is_absence() -> None:
    assert day("10:31", "13:20", "17:40").absent == 1
    assert day("08:20", "13:20", "15:29").status == "absent"
    assert day("10:30", "13:20", "17:40").absent == 0


def test_no_sign_in_and_no_leave_is_absence_and_a_holiday_is_not() -> None:
    assert day().status == "absent"
    assert rules.day_result(CFG, SHIFT, False, []).status == "off"


def test_one_missing_sign_in_is_flagged_or_half_a_day_by_config() -> None:
    assert [x["rule"] for x in day("08:20", "17:40").lines] == ["missing"]
    strict = HrConfig.model_validate({"late": {"missing_sign_in": "absence"}})
    assert day("08:20", "17:40", cfg=strict).absent == Decimal("0.5")


def test_proxy_costs_each_of_the_two_ten_yuan_each_time() -> None:
    out = day("08:20", "13:20", "17:40", proxies=[("for", "李四")])
    assert [(x["rule"], x["amount"]) for x in out.lines] == [("proxy", "10")]
    assert CFG.proxy.freeze_from == 3


def test_absent_run_skips_days_off_and_breaks_on_a_worked_day() -> None:
    seq = [(date(2026, 9, i), s) for i, s in enumerate(["absent", "off", "absent", "work", "absent"], 1)]
    assert rules.longest_absent_run(seq) == 2


def test_shift_times_out_of_order_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="shift times"):
        ShiftConfig.model_validate({"morning_start": "09:00", "morning_end": "08:00"})
