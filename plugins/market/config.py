"""``[market]``: the market's floors, areas and the people who answer for them, and every
number of the market's rule table (plugins/market/README.md) as a field default (第四篇 商贸城管理部).

Roles are staff targets of ``[staff]``: a role (``market_manager``), a person, a rota
(``rota:duty-deputy``) or a per-floor role (``floor_manager@{unit}``, filled with the
floor's key, so ``floor_manager@3F`` in ``[staff.roles]``).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from kefu.api import Duration, PluginContext


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaConfig(_Strict):
    """A 片区 of a floor and its area supervisor (片区主管), who keeps the opening checks."""

    name: str = ""
    supervisor: str = Field(default="", description="staff target of the area supervisor (片区主管)")


class FloorConfig(_Strict):
    """A 楼层: its name, its floor manager (楼层经理) and its areas."""

    name: str = ""
    manager: str = Field(
        default="floor_manager@{unit}",
        description="staff target of the floor manager; {unit} is the floor's key (floor_manager@3F)",
    )
    areas: dict[str, AreaConfig] = Field(default_factory=dict)


# The fee kinds of the seed's 应收尽收 (租金、水电费、物管费、税费、工商费) and a catch-all.
FEE_KINDS: dict[str, str] = {
    "rent": "租金",
    "utilities": "水电费",
    "property": "物管费",
    "tax": "税费",
    "commerce": "工商费",
    "other": "其他",
}


class FeesConfig(_Strict):
    """The reminder ladder of one unpaid ledger line (the rule table's defaults)."""

    remind_before: Duration = Field(
        default=timedelta(days=7),
        description="first reminder this long before the due date (7 d, default)",
    )
    remind_on_due_day: bool = Field(default=True, description="a reminder on the due date itself (default)")
    overdue_every: Duration = Field(
        default=timedelta(days=3),
        description="while overdue, one reminder each this long (3 d, default)",
    )
    escalate_after: Duration = Field(
        default=timedelta(days=30),
        description="this long overdue → the market manager (30 d, default)",
    )
    pay_within: Duration = Field(
        default=timedelta(days=7),
        description="the reasonable period to pay that the 催缴通知书 grants from its date (民法典 art. 944)",
    )
    letter: bool = Field(default=True, description="each reminder step also queues a 催缴通知书 letter (PDF)")
    reminder_hour: int = Field(default=9, ge=8, le=20, description="local hour the ladder runs each day")
    overdue_list_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="local hour each floor manager gets the day's overdue list",
    )
    kinds: dict[str, str] = Field(
        default_factory=lambda: dict(FEE_KINDS),
        description="fee kinds a ledger line may carry, with labels",
    )


class PatrolWindowsConfig(_Strict):
    """When security patrols fall due (公安部令第61号 art. 25 and the seed)."""

    opens: time = Field(default=time(8, 30), description="business hours start: the opening round")
    closes: time = Field(default=time(17, 30), description="business hours end: the closing round")
    noon: time = Field(default=time(12, 0), description="the extra noon round")
    every: Duration = Field(default=timedelta(hours=2), description="rounds every 2 h during business hours")
    window: Duration = Field(default=timedelta(hours=1), description="a round's points must be checked within this")
    night: list[time] = Field(default_factory=lambda: [time(22, 0), time(2, 0)], description="night rounds (≥ 2, seed)")
    deputy_every: Duration = Field(
        default=timedelta(hours=1),
        description="during business hours the duty deputy manager checks in at least once each (seed: ≥ 1 / h)",
    )


class PatrolConfig(_Strict):
    """Fire-safety patrols: points, routes, time windows, who hears of a missed point."""

    points: dict[str, str] = Field(default_factory=dict, description="patrol point key → place (3F = 三楼消防通道 …)")
    routes: dict[str, list[str]] = Field(default_factory=dict, description="route name → its points, in walking order")
    windows: PatrolWindowsConfig = Field(default_factory=PatrolWindowsConfig)
    escalate_after: Duration = Field(
        default=timedelta(hours=1),
        description="a 漏巡 not acknowledged by then → the security manager",
    )
    sign_within: Duration = Field(
        default=timedelta(hours=12),
        description="a patrol record unsigned by the supervisor this long → reminded",
    )
    supervisor: str = Field(default="security_manager", description="who countersigns records (GB/T 40248-2021)")
    token_secret: str | None = Field(
        default=None, description="secret naming the patrol app's bearer token; no API without it"
    )


class EventConfig(_Strict):
    """One yearly event of the seed's calendar; ``dates`` fixes its day per year (else ``month``/``day``)."""

    name: str
    month: int = Field(ge=1, le=12)
    day: int = Field(default=1, ge=1, le=28)
    dates: dict[str, date] = Field(default_factory=dict, description="year → the event's first day")
    major: bool = Field(default=True, description="a major event: a 地毯式 fire inspection before it")

    def on(self, year: int) -> date:
        """The event's first day in ``year``."""
        return self.dates.get(str(year)) or date(year, self.month, self.day)


def _seed_events() -> dict[str, EventConfig]:
    # 第四篇 楼层经理职责三: 年底 年货博览会, 年初 迎春购物月, 四月 运动会, 五月 冰洗节,
    # 六月 下乡回访月, 秋冬(旺季) 商品交易促销月. Days within the month are defaults to adjust.
    return {
        "nianhuo": EventConfig(name="年货博览会", month=12, day=15),
        "yingchun": EventConfig(name="迎春购物月", month=1, day=5),
        "sports": EventConfig(name="商贸城运动会", month=4, day=15, major=False),
        "bingxi": EventConfig(name="冰洗节", month=5, day=10),
        "xiaxiang": EventConfig(name="下乡回访月", month=6, day=1, major=False),
        "cuxiao": EventConfig(name="商品交易促销月", month=10, day=15),
    }


# 防火(安全)检查和巡查制度 六 and 片区主管职责 七 of the seed.
FIRE_CHECKLIST = [
    "市场内部有无火险隐患",
    "灭火器、消火栓、防火卷帘门、报警按钮、模块是否完好无损、有无遮挡",
    "消防通道、安全出口是否畅通，有无堆货",
    "店面装潢有无审批手续",
    "有无乱拉乱接电线、使用大功率电器",
    "片区内有无煮饭、炒菜、用电驴烤火",
    "闭店后非必要电源是否切断、有无遗留火源",
]


class EventsConfig(_Strict):
    """The events calendar and the 地毯式 fire inspections before holidays and major events."""

    events: dict[str, EventConfig] = Field(default_factory=_seed_events)
    lead_times: list[Duration] = Field(
        default_factory=lambda: [timedelta(days=30), timedelta(days=7)],
        description="tasks to the floor managers this long before each event (30 d and 7 d, default)",
    )
    inspect_before: Duration = Field(
        default=timedelta(days=3),
        description="the 地毯式 inspection task opens this long before each statutory holiday or major event",
    )
    checklist: list[str] = Field(default_factory=lambda: list(FIRE_CHECKLIST))
    plan_hour: int = Field(default=7, ge=0, le=23, description="local hour the day's tasks are planned")


class HazardsConfig(_Strict):
    """隐患: fixed on the spot or within 24 h (default); a major one goes to the general manager at once (seed)."""

    fix_within: Duration = Field(default=timedelta(hours=24), description="rectification deadline (24 h, default)")
    recheck_within: Duration = Field(
        default=timedelta(hours=24), description="security re-checks a reported fix within this"
    )
    major_words: list[str] = Field(
        default_factory=lambda: [
            "重大",
            "明火",
            "起火",
            "冒烟",
            "电线短路",
            "消防通道堵死",
            "消防设施损坏",
        ],
        description="words that make a reported hazard major (总经理 at once)",
    )


class WatchConfig(_Strict):
    """Watch-list tenants and requests (seed: 发现异常动态及时向上级领导报告; 严把审核第一关)."""

    closed_days: int = Field(default=3, ge=1, description="a shop closed this many days in a row → the manager")
    review_within: Duration = Field(
        default=timedelta(days=2),
        description="the floor manager's first review of a transfer/sublet/refit request",
    )
    decide_within: Duration = Field(
        default=timedelta(days=5),
        description="the market manager decides after the first review within this",
    )


class ChecksConfig(_Strict):
    """Scheduled checks (seed 防火检查和巡查制度 四; 公安部令第61号 art. 26), each a task with its doer recorded."""

    weekly_night: str = Field(default="security_manager", description="安保部每周一次夜间查岗: who does it")
    monthly_night: str = Field(default="market_manager", description="商贸城负责人每月不少于一次夜间查岗")
    monthly_fire: str = Field(default="security_manager", description="每月至少一次防火检查 (61号令 art. 26)")


class ComplaintsConfig(_Strict):
    """Purchasers' and customers' complaints (第四篇 片区主管职责 十, 十三): reply 24 h, then a callback."""

    keywords: list[str] = Field(
        default_factory=lambda: [
            "投诉",
            "假货",
            "以次充好",
            "缺斤短两",
            "质量问题",
            "态度恶劣",
            "欺骗",
            "不给退",
        ],
        description="words that make a message a complaint",
    )
    reply_within: Duration = Field(default=timedelta(hours=24), description="first reply (24 h, default)")
    callback_within: Duration = Field(
        default=timedelta(days=3),
        description="the complainant answers the callback within this, else staff call",
    )
    satisfied: list[str] = Field(default_factory=lambda: ["满意", "1"])
    unsatisfied: list[str] = Field(default_factory=lambda: ["不满意", "2"])


class DeskConfig(_Strict):
    """The store service desk (第二篇 卖场客服组): registers, lost items, gift stock, parcels."""

    lost_hold: Duration = Field(default=timedelta(days=30), description="a lost item is held this long (30 d)")
    lost_report_to: str = Field(
        default="security_manager",
        description="who a lost item unclaimed after lost_hold is reported to",
    )
    supervisor: str = Field(default="market_manager", description="客服主管: suggestions and parcels left at closing")


class LogsConfig(_Strict):
    """值班记录 and 工作日志: one per shift; a shift that ends without one is reminded to who was on duty."""

    duty_ends: time = Field(default=time(8, 0), description="the duty deputy manager's shift ends (值班记录 due)")
    floor_ends: time = Field(default=time(17, 30), description="floor managers' day ends (each floor's 工作日志 due)")
    grace: Duration = Field(default=timedelta(minutes=30), description="reminded this long after the shift ends")


class MarketConfig(_Strict):
    """The ``[market]`` section."""

    floors: dict[str, FloorConfig] = Field(default_factory=dict, description="floor key (1F …) → floor")
    market_manager: str = Field(default="market_manager", description="管理部经理: staff target")
    general_manager: str = Field(default="general_manager", description="总经理: staff target (major hazards)")
    security_manager: str = Field(default="security_manager", description="安保部经理: staff target")
    duty_deputy: str = Field(default="rota:duty-deputy", description="带队副经理 on duty: staff target (a rota)")
    fees: FeesConfig = Field(default_factory=FeesConfig)
    patrols: PatrolConfig = Field(default_factory=PatrolConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    hazards: HazardsConfig = Field(default_factory=HazardsConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    complaints: ComplaintsConfig = Field(default_factory=ComplaintsConfig)
    desk: DeskConfig = Field(default_factory=DeskConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)

    def floor_manager(self, floor: str) -> str:
        """The staff target of a floor's manager (the default per-floor role if the floor is unknown)."""
        spec = self.floors.get(floor)
        return (spec.manager if spec else FloorConfig().manager).replace("{unit}", floor)


Ctx = PluginContext[MarketConfig]
