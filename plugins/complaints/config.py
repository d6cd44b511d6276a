"""``[complaints]``: the property developer's customer service (rule table: plugins/complaints/README.md).

Every number the rule table gives (seed or **default**) is a field default here, so a
department changes "48 h" or "60 days before expiry" in its TOML, never in code.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.api import Duration, OptionalPhone, PluginContext

Clock = Literal["24x7", "workday"]
FeedbackKind = Literal["complaint", "repair", "suggestion", "inquiry"]
NoticeChannel = Literal["sms", "email"]
_ORDER: tuple[FeedbackKind, ...] = ("complaint", "repair", "suggestion", "inquiry")
_NOTICE_CHANNELS: tuple[NoticeChannel, ...] = ("sms", "email")

# The five roles of 客服管理部 (seed), as the keys the config uses for them.
ROLE_NAMES: dict[str, str] = {
    "project_cs": "项目客服",
    "repair_engineer": "维修工程师",
    "repair_manager": "维修管理岗",
    "risk_control": "风控管理岗",
    "head": "客服负责人",
}

# The repair engineer's process (seed 维修工程师 a), in order; the last step closes.
REPAIR_STEPS: tuple[str, ...] = ("沟通联系", "现场查看", "责任判定", "方案制定", "工作指派", "维修关闭")

# The five risk-assessment milestones of 风控管理岗 a (seed).
MILESTONE_NAMES: dict[str, str] = {
    "kickoff": "项目启动会",
    "show_area_open": "示范区开放前",
    "contract_signing": "合同会签会",
    "sales_open": "开盘前",
    "delivery": "交付前",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Roles(_Strict):
    """Who holds each role: staff keys or rota names from ``[staff]`` (a person or a rota)."""

    project_cs: list[str] = Field(default_factory=list)
    repair_engineer: list[str] = Field(default_factory=list)
    repair_manager: list[str] = Field(default_factory=list)
    risk_control: list[str] = Field(default_factory=list)
    head: list[str] = Field(default_factory=list)

    def holders(self, role: str) -> list[str]:
        """The staff keys or rotas configured for ``role`` (ValueError for an unknown role)."""
        if role not in ROLE_NAMES:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLE_NAMES)}")
        value: list[str] = getattr(self, role)
        return value


class WarrantyItem(_Strict):
    """One line of the warranty table (建设工程质量管理条例 art. 40).

    Either ``years`` or ``heating_seasons``; ``notify`` off for items whose period
    is the design life (foundation, main structure) — nobody is told they expire.
    """

    title: str
    years: int | None = Field(default=None, ge=1)
    heating_seasons: int | None = Field(default=None, ge=1)
    notify: bool = True
    keywords: list[str] = Field(default_factory=list, description="words that tie a repair to this item")

    @model_validator(mode="after")
    def _one_period(self) -> WarrantyItem:
        if (self.years is None) == (self.heating_seasons is None):
            raise ValueError(f"warranty item {self.title!r}: set exactly one of years or heating_seasons")
        return self


def _default_warranty() -> dict[str, WarrantyItem]:
    return {
        "waterproofing": WarrantyItem(
            title="防水（屋面、有防水要求的卫生间和房间）",
            years=5,
            keywords=["防水", "屋面", "屋顶", "卫生间渗水", "楼顶"],
        ),
        "exterior_wall": WarrantyItem(title="外墙面防渗漏", years=5, keywords=["外墙"]),
        "heating_cooling": WarrantyItem(
            title="供热与供冷系统", heating_seasons=2, keywords=["暖气", "地暖", "供暖", "空调", "散热器"]
        ),
        "electrical": WarrantyItem(title="电气管线", years=2, keywords=["电路", "跳闸", "插座", "开关", "电线"]),
        "plumbing": WarrantyItem(
            title="给排水管道", years=2, keywords=["水管", "下水", "堵塞", "漏水", "给水", "排水"]
        ),
        "equipment": WarrantyItem(title="设备安装", years=2, keywords=["设备", "电梯", "门禁", "对讲"]),
        "decoration": WarrantyItem(
            title="装修工程", years=2, keywords=["装修", "墙皮", "瓷砖", "地板", "门窗", "开裂"]
        ),
        "structure": WarrantyItem(
            title="地基基础和主体结构（设计使用年限）", years=50, notify=False, keywords=["结构", "承重", "地基"]
        ),
    }


class RepairClass(_Strict):
    """A class of repair with its own closure time (plumbing leak 48 h, general 7 d)."""

    title: str
    closure: Duration
    closure_clock: Clock = "24x7"
    keywords: list[str] = Field(default_factory=list)
    urgent: bool = False


def _default_repair_classes() -> dict[str, RepairClass]:
    return {
        "plumbing_leak": RepairClass(
            title="水管漏水",
            closure=timedelta(hours=48),
            urgent=True,
            keywords=["漏水", "渗水", "跑水", "爆管", "水管破", "滴水", "淹"],
        ),
        "general": RepairClass(title="一般维修", closure=timedelta(days=7)),
    }


class StepDeadline(_Strict):
    """How long one repair step may stay open, and on which clock."""

    within: Duration
    clock: Clock = "24x7"


def _default_steps() -> dict[str, StepDeadline]:
    # 沟通联系 2 h workday and 现场查看 24 h are the rule table's; the middle steps are our
    # **defaults**; 维修关闭 takes its time from the repair class.
    return {
        "沟通联系": StepDeadline(within=timedelta(hours=2), clock="workday"),
        "现场查看": StepDeadline(within=timedelta(hours=24)),
        "责任判定": StepDeadline(within=timedelta(days=1)),
        "方案制定": StepDeadline(within=timedelta(days=2)),
        "工作指派": StepDeadline(within=timedelta(days=1)),
    }


class RepairSection(_Strict):
    """报修/报事: step deadlines, repair classes, escalation chain."""

    steps: dict[str, StepDeadline] = Field(default_factory=_default_steps)
    classes: dict[str, RepairClass] = Field(default_factory=_default_repair_classes)
    default_class: str = "general"
    escalation: list[str] = Field(
        default_factory=lambda: ["repair_engineer", "repair_manager", "head"],
        description="roles told in turn at each breach",
    )
    keywords: list[str] = Field(
        default_factory=lambda: [
            "报修",
            "维修",
            "报事",
            "坏了",
            "损坏",
            "漏水",
            "渗水",
            "裂缝",
            "开裂",
            "堵塞",
            "堵了",
            "脱落",
            "跳闸",
            "不通",
            "修理",
            "空鼓",
            "返潮",
            "发霉",
        ]
    )

    @model_validator(mode="after")
    def _consistent(self) -> RepairSection:
        if self.default_class not in self.classes:
            raise ValueError(f"default_class {self.default_class!r} is not one of classes: {', '.join(self.classes)}")
        unknown = [s for s in self.steps if s not in REPAIR_STEPS]
        if unknown:
            raise ValueError(f"steps: unknown step(s) {unknown}; steps are {', '.join(REPAIR_STEPS[:-1])}")
        bad = [r for r in self.escalation if r not in ROLE_NAMES]
        if bad:
            raise ValueError(f"escalation: unknown role(s) {bad}; roles: {', '.join(ROLE_NAMES)}")
        return self


class FeedbackSection(_Strict):
    """投诉、咨询、建议: keywords, reply and resolution deadlines."""

    reply_within: Duration = timedelta(hours=24)
    resolve_within: Duration = timedelta(days=7)
    clock: Clock = "24x7"
    escalation: list[str] = Field(default_factory=lambda: ["project_cs", "head"])
    complaint_keywords: list[str] = Field(
        default_factory=lambda: [
            "投诉",
            "不满",
            "太差",
            "曝光",
            "维权",
            "举报",
            "欺骗",
            "退房",
            "差评",
            "12345",
        ]
    )
    inquiry_keywords: list[str] = Field(
        default_factory=lambda: [
            "咨询",
            "请问",
            "问一下",
            "怎么办理",
            "什么时候",
            "多久",
            "是否",
            "能否",
            "如何",
            "是否在保修期",
            "在保修期内吗",
            "还在保修期",
        ]
    )
    suggestion_keywords: list[str] = Field(default_factory=lambda: ["建议", "意见", "希望能", "最好能"])
    # When a text matches several kinds the first in this order wins: a complaint
    # about a slow repair is a complaint, a question about a leak is a repair.
    order: list[FeedbackKind] = Field(default_factory=lambda: list(_ORDER))


class ScoreSection(_Strict):
    """How well an item matches complaints when several plugins serve one inbox (higher wins).

    Each matched word counts its weight (``weights``, else 1), a word inside a longer
    matched one once, as the longer; the kind is the one whose strongest word weighs
    most, ties in ``feedback.order``. ``context_words`` found add their weight too. An
    owner of one of our homes (an imported one, by phone or mail) adds ``customer``, only
    to an item some word already matched. An item that threads onto a case goes to it
    before anyone is asked.
    """

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            # Words that name what the message is: an inquiry, a repair report, a complaint.
            "是否在保修期": 3.0,
            "在保修期内吗": 3.0,
            "还在保修期": 3.0,
            "咨询": 2.0,
            "请问": 2.0,
            "报修": 2.0,
            "报事": 2.0,
            "投诉": 2.0,
            "维权": 2.0,
            "举报": 2.0,
            "曝光": 2.0,
            "建议": 2.0,
        },
        description="word → weight (default 1, context words 0.5); specific words above generic ones",
    )
    context_words: list[str] = Field(
        default_factory=lambda: [
            "卫生间",
            "厨房",
            "楼下",
            "楼上",
            "天花板",
            "吊顶",
            "外墙",
            "屋面",
            "物业",
            "业主",
            "交房",
            "精装",
            "开发商",
        ],
        description="words that make an item more likely ours without naming its kind (a home's rooms, "
        "物业); they add to a match, never make one",
    )
    customer: float = Field(default=1.0, description="the sender owns one of our homes")


class CallbackSection(_Strict):
    """回访: the satisfaction survey by SMS after resolution."""

    within: Duration = timedelta(days=3)
    reopen_below: int = Field(default=3, ge=1, le=5, description="a score under this reopens the case")
    channel: Literal["sms", "email"] = "sms"


class ThirdPartySection(_Strict):
    """第三方维修: contractor due dates and the reminder before them."""

    default_due: Duration = timedelta(days=7)
    remind_before: Duration = timedelta(days=1)
    acceptance_within: Duration = timedelta(days=2)
    letter_template: str = "repair_notice_letter.html"


class Contractor(_Strict):
    """A third-party repair firm (第三方维修单位) the engineer can assign."""

    name: str
    email: str | None = None
    phone: OptionalPhone = None  # stored in E.164, read with the site's default country
    address: str | None = None
    contact: str | None = None
    trades: list[str] = Field(default_factory=list)


class WarrantySection(_Strict):
    """保修期到期温馨提示: the table, the notice leads and the pre-expiry defect list."""

    items: dict[str, WarrantyItem] = Field(default_factory=_default_warranty)
    notice_days_before: list[int] = Field(default_factory=lambda: [60, 30])
    channels: list[NoticeChannel] = Field(default_factory=lambda: list(_NOTICE_CHANNELS))
    defect_list_days_before: int = Field(default=60, ge=1, description="到期前集中接报 window")
    heating_season_start: str = Field(default="11-01", description="MM-DD")
    heating_season_end: str = Field(default="03-31", description="MM-DD")
    count_partial_season: bool = Field(
        default=False, description="a season already running at delivery counts as the first"
    )
    schedule: str = "0 9 * * *"

    @field_validator("notice_days_before")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("give one or more positive day counts, e.g. [60, 30]")
        return sorted(set(value), reverse=True)

    @field_validator("heating_season_start", "heating_season_end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            date.fromisoformat(f"2001-{value}")
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a month-day like '11-01'") from exc
        return value


class CompensationSection(_Strict):
    """客户赔付: negotiation, the letter to the responsible party, payment, archive."""

    negotiation_within: Duration = timedelta(days=15)
    letter_within: Duration = timedelta(days=3)
    payment_within: Duration = timedelta(days=15)
    archive_within: Duration = timedelta(days=7)
    letter_template: str = Field(
        default="compensation_letter.html",
        description="the 责任方函件, HTML under the plugin's templates, rendered to PDF",
    )
    pay_within_days: int = Field(default=15, ge=1, description="the time the letter gives the party to pay")


class AssessmentSection(_Strict):
    """交付后客户体验评估 and the risk-control milestones."""

    after_delivery_months: int = Field(default=1, ge=0, description="seed: 交付后一个月")
    rectification_within: Duration = timedelta(days=30)
    milestone_lead_days: int = Field(default=14, ge=0)
    milestones: dict[str, str] = Field(default_factory=lambda: dict(MILESTONE_NAMES))
    schedule: str = "30 8 * * *"


class Project(_Strict):
    """One project (项目): its roles, milestone dates and warranty overrides."""

    name: str
    roles: Roles | None = None
    milestones: dict[str, date] = Field(default_factory=dict, description="milestone key → date")
    warranty: dict[str, WarrantyItem] = Field(
        default_factory=dict, description="items replacing the default table's for this project"
    )


class ReportsSection(_Strict):
    """Monthly defect report and KPIs, mailed to the heads."""

    schedule: str = "0 8 1 * *"
    recipients_role: str = "head"
    trades: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "土建": ["裂缝", "开裂", "空鼓", "墙", "地面", "结构"],
            "防水": ["漏水", "渗水", "防水", "返潮", "发霉"],
            "水暖": ["水管", "下水", "堵塞", "暖气", "地暖"],
            "电气": ["电", "跳闸", "插座", "开关", "灯"],
            "门窗": ["门", "窗", "玻璃"],
            "装修": ["瓷砖", "地板", "墙皮", "涂料", "吊顶"],
        }
    )


class ComplaintsConfig(_Strict):
    """The whole ``[complaints]`` section."""

    roles: Roles = Field(default_factory=Roles, description="default holders where a project sets none")
    projects: dict[str, Project] = Field(default_factory=dict)
    contractors: dict[str, Contractor] = Field(default_factory=dict)
    inboxes: list[str] = Field(default_factory=list, description="channels to classify; empty = all")
    warn_share: float = Field(default=0.75, gt=0, lt=1, description="owner warned at this share of a deadline")
    escalation_repeat: Duration = Field(default=timedelta(hours=24), description="next level after a breach")
    escalation_max_repeats: int = Field(default=3, ge=0, description="reminders to the top level, then stop")
    repair: RepairSection = Field(default_factory=RepairSection)
    feedback: FeedbackSection = Field(default_factory=FeedbackSection)
    score: ScoreSection = Field(default_factory=ScoreSection)
    callback: CallbackSection = Field(default_factory=CallbackSection)
    third_party: ThirdPartySection = Field(default_factory=ThirdPartySection)
    warranty: WarrantySection = Field(default_factory=WarrantySection)
    compensation: CompensationSection = Field(default_factory=CompensationSection)
    assessment: AssessmentSection = Field(default_factory=AssessmentSection)
    reports: ReportsSection = Field(default_factory=ReportsSection)

    def roles_for(self, project: str | None) -> Roles:
        """The roles of ``project``, falling back to the section's default roles."""
        proj = self.projects.get(project or "")
        return proj.roles if proj is not None and proj.roles is not None else self.roles

    def warranty_for(self, project: str | None) -> dict[str, WarrantyItem]:
        """The warranty table of ``project``: the default table with its overrides applied."""
        table = dict(self.warranty.items)
        proj = self.projects.get(project or "")
        if proj is not None:
            table.update(proj.warranty)
        return table

    @model_validator(mode="after")
    def _milestones_known(self) -> ComplaintsConfig:
        for code, proj in self.projects.items():
            unknown = [m for m in proj.milestones if m not in self.assessment.milestones]
            if unknown:
                raise ValueError(
                    f"projects.{code}.milestones: unknown milestone(s) {unknown}; "
                    f"known: {', '.join(self.assessment.milestones)}"
                )
        return self


Ctx = PluginContext[ComplaintsConfig]
"""What this plugin's hooks and functions receive as ``ctx``: the context typed by its section."""
