"""``[heating]``: every number of the rule table in plugins/heating/README.md, as a field default.

Stations (所/站: 锅炉房 boiler rooms, 换热站 exchange stations) and branches (分公司)
with their duty rotas and heads live here too: the escalation chain station on duty →
branch head → CS-centre head is read from them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.api import Duration, PluginContext


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _month_day(value: str) -> str:
    """Accept ``"MM-DD"`` (``"11-01"``); the year comes from the season."""
    try:
        date.fromisoformat(f"2024-{value}")  # 2024 is a leap year, so 02-29 is accepted
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a month-day; write e.g. '11-01' for 1 November") from exc
    return value


class KeywordsConfig(_Strict):
    """Words that classify hotline records, SMS and mail (extend them, never edit code)."""

    leak: list[str] = Field(
        default_factory=lambda: [
            "跑冒滴漏",
            "跑冒漏",
            "跑水",
            "冒水",
            "冒汽",
            "冒气",
            "漏水",
            "滴漏",
            "滴水",
            "渗漏",
            "暖气漏",
            "管道漏",
            "爆管",
            "水管爆",
            "阀门漏",
            "暖气片漏",
        ]
    )
    general: list[str] = Field(
        default_factory=lambda: [
            "不热",
            "不太热",
            "温度低",
            "室温低",
            "暖气凉",
            "暖气不热",
            "供暖差",
            "没暖气",
            "不供暖",
            "暖气冰",
            "冰凉",
            "投诉",
            "供热",
        ]
    )
    outage: list[str] = Field(
        default_factory=lambda: [
            "停暖",
            "停热",
            "停供",
            "暂停供热",
            "暂停供暖",
            "何时来暖",
            "什么时候来暖",
            "啥时候来暖",
            "何时恢复供暖",
            "何时恢复供热",
            "什么时候恢复供暖",
            "什么时候恢复供热",
            "什么时候供暖",
            "何时供暖",
            "来暖",
        ],
        description="questions about an outage or the season's start (停暖, 何时来暖 …): an outage inquiry",
    )
    fee: list[str] = Field(
        default_factory=lambda: [
            "采暖费",
            "取暖费",
            "供暖费",
            "热费",
            "缴费",
            "交费",
            "缴纳",
            "发票",
            "收费标准",
            "欠费",
            "退费",
        ],
        description="questions about heating fees (采暖费, 缴费, 发票 …): a fee inquiry",
    )
    satisfied: list[str] = Field(default_factory=lambda: ["满意", "1", "好", "满意了"])
    unsatisfied: list[str] = Field(default_factory=lambda: ["不满意", "2", "不好", "没解决"])


class ScoreConfig(_Strict):
    """How well an item matches heating when several plugins serve one inbox (higher wins).

    Each matched word counts its weight (``weights``, else 1); a word inside a longer
    matched one counts once, as the longer. A household of ours (an imported one, by
    phone or mail) adds ``customer``, only to an item some word (or a stated low
    temperature) already matched. An item that threads onto a case (a reply, a case
    number, an SMS from a sender with an open case) goes to it before anyone is asked.
    """

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            # Specific to heating: a radiator or heating pipe, an outage, the heating fee.
            "暖气漏": 2.0,
            "暖气片漏": 2.0,
            "暖气管": 2.0,
            "跑冒滴漏": 2.0,
            "跑冒漏": 2.0,
            "冒汽": 2.0,
            "冒气": 2.0,
            "暖气不热": 2.0,
            "暖气凉": 2.0,
            "没暖气": 2.0,
            "不供暖": 2.0,
            "供暖差": 2.0,
            "停暖": 3.0,
            "停热": 3.0,
            "暂停供热": 3.0,
            "暂停供暖": 3.0,
            "何时来暖": 3.0,
            "什么时候来暖": 3.0,
            "采暖费": 3.0,
            "取暖费": 3.0,
            "供暖费": 3.0,
            # Generic words every department hears.
            "投诉": 0.5,
            "供热": 0.5,
            "缴费": 0.5,
            "交费": 0.5,
            "发票": 0.5,
        },
        description="word → weight (default 1); specific words above generic ones",
    )
    low_temperature: float = Field(default=2.0, description="a stated room temperature under the threshold")
    inbox_fallback: float = Field(default=0.5, description="an item claimed only through inbox_kinds")
    customer: float = Field(default=1.0, description="the sender is a household of ours")


class DeadlinesConfig(_Strict):
    """Deadlines of the heating table; all on the 24x7 clock (seed: 4 h / 24 h)."""

    leak: Duration = timedelta(hours=4)
    general: Duration = timedelta(hours=24)
    low_temp: Duration = timedelta(hours=24)
    outage_inquiry: Duration = Field(
        default=timedelta(hours=4), description="answer a question about an outage (停暖, 何时来暖) within this"
    )
    fee_inquiry: Duration = Field(
        default=timedelta(hours=24), description="answer a question about fees (采暖费, 发票) within this"
    )
    callback_wait: Duration = Field(
        default=timedelta(hours=48),
        description="no answer to the callback SMS within this → phone-callback list",
    )
    audit_rectification: Duration = timedelta(days=15)
    shutoff_check: Duration = Field(
        default=timedelta(days=7), description="a station's 关栓 spot check task is due this long after it is set"
    )
    coal_retest: Duration = timedelta(days=2)
    escalate_every: Duration | None = Field(
        default=None, description="after a breach, the next level is told this much later ([sla] default)"
    )


class SeasonConfig(_Strict):
    """The heating season (default 1 Nov – 31 Mar) and the fee campaign dates."""

    start: str = "11-01"
    end: str = "03-31"
    reminders_before: list[str] = Field(
        default_factory=lambda: ["10-08", "10-20"],
        description="fee reminder dates before the season starts (MM-DD)",
    )
    reminders_during: list[str] = Field(
        default_factory=lambda: ["11-15", "12-15", "01-15"],
        description="fee reminder dates during the season (MM-DD)",
    )
    shutoff_checks_on: str = Field(
        default="10-25", description="the day 关栓 spot-check tasks go to the stations (before start)"
    )
    shutoff_sample_share: float = Field(default=1.0, gt=0, le=1, description="share of non-payers checked")
    letter_without_phone: bool = Field(
        default=True, description="households owing with no (valid) phone get a 催缴通知书 letter"
    )
    reminder_hour: int = Field(default=10, ge=8, le=20, description="local hour the fee reminders are queued")

    @field_validator("start", "end", "shutoff_checks_on")
    @classmethod
    def _day(cls, value: str) -> str:
        return _month_day(value)

    @field_validator("reminders_before", "reminders_during")
    @classmethod
    def _days(cls, values: list[str]) -> list[str]:
        return [_month_day(v) for v in values]


class TemperatureConfig(_Strict):
    """测温: below ``threshold_c`` opens a low-temperature case (default 18 °C)."""

    threshold_c: float = 18.0


class VisitsConfig(_Strict):
    """包保走访 minimums per station (seed: ≥1/week, ≥6/month, ≥5 far-end households)."""

    per_week: int = Field(default=1, ge=0)
    per_month: int = Field(default=6, ge=0)
    far_end_households: int = Field(default=5, ge=0)
    only_in_season: bool = True
    weekly_check: str = Field(default="0 9 * * 1", description="cron: check last week (Mon 09:00)")
    midweek_reminder: str = Field(default="0 9 * * 4", description="cron: remind stations not yet visited")
    monthly_check: str = Field(default="30 9 1 * *", description="cron: check last month, mail the summary")


class CoalLabConfig(_Strict):
    """煤质化验: each sample analysed twice; a difference beyond tolerance asks for a retest."""

    tolerance: dict[str, float] = Field(
        default_factory=lambda: {
            "calorific_mj_kg": 0.12,  # 发热量 Qnet,ar, MJ/kg (GB/T 213 repeatability)
            "sulfur_pct": 0.05,  # 全硫 St
            "ash_pct": 0.20,  # 灰分 A
            "volatile_pct": 0.30,  # 挥发分 V
            "moisture_pct": 0.40,  # 全水分 Mt
            "carbon_in_ash_pct": 0.30,  # 灰渣含碳量
        },
        description="largest allowed difference between the two tests, per measure",
    )
    default_tolerance: float = 0.3
    lab_head: str | None = Field(default=None, description="化验室负责人 (staff key) who gets retest requests")


class AuditConfig(_Strict):
    """稽查: what counts as a finding and what the letter asks for."""

    basement_height_m: float = Field(
        default=2.2, description="a dug-out/extended basement higher than this is heated area (seed)"
    )
    letter_channel: Literal["letter", "email"] = "letter"


class StationConfig(_Strict):
    """One 所/站: its branch, its duty rota (值班表) and its 包保 responsible person."""

    name: str
    kind: Literal["锅炉房", "换热站"] = "换热站"
    branch: str
    duty: str | None = Field(
        default=None,
        description="who is on duty (值班): a [staff] rota, role or person; default 'rota:station-<key>'",
    )
    responsible: str | None = Field(default=None, description="包保责任人 (staff key)")
    far_end_buildings: list[str] = Field(default_factory=list, description="远端 buildings")


class BranchConfig(_Strict):
    """One 分公司 and its head."""

    name: str
    head: str


class HeatingConfig(_Strict):
    """The whole ``[heating]`` section."""

    keywords: KeywordsConfig = Field(default_factory=KeywordsConfig)
    score: ScoreConfig = Field(default_factory=ScoreConfig)
    deadlines: DeadlinesConfig = Field(default_factory=DeadlinesConfig)
    season: SeasonConfig = Field(default_factory=SeasonConfig)
    temperature: TemperatureConfig = Field(default_factory=TemperatureConfig)
    visits: VisitsConfig = Field(default_factory=VisitsConfig)
    coal_lab: CoalLabConfig = Field(default_factory=CoalLabConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    stations: dict[str, StationConfig] = Field(default_factory=dict)
    branches: dict[str, BranchConfig] = Field(default_factory=dict)
    cs_centre_head: str | None = Field(default=None, description="客服中心负责人 (staff key)")
    fuel_department: str | None = Field(default=None, description="燃料部 contact for coal reports")
    hotline_office: str | None = Field(
        default=None, description="email of the city hotline office (96123) that gets our replies"
    )
    inbox_kinds: dict[str, str] = Field(
        default_factory=dict,
        description="channel name → kind for items no keyword claims (e.g. 'sms' = 'general'; "
        "leak, general, outage_inquiry or fee_inquiry)",
    )

    def duty_of(self, station_key: str) -> str:
        """The [staff] target on duty for a station (its rota by default)."""
        station = self.stations.get(station_key)
        return (station.duty if station and station.duty else None) or f"rota:station-{station_key}"

    @model_validator(mode="after")
    def _stations_name_branches(self) -> HeatingConfig:
        for key, station in self.stations.items():
            if self.branches and station.branch not in self.branches:
                raise ValueError(
                    f"stations.{key}.branch: {station.branch!r} is not one of [heating.branches]: "
                    f"{', '.join(sorted(self.branches))}"
                )
        return self


Ctx = PluginContext[HeatingConfig]
"""What this plugin's hooks and functions receive as ``ctx``: the context typed by its section."""
