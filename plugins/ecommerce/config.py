"""``[ecommerce]``: the shops one kefu serves, the desk's roles, and every number of the rule table
(plugins/ecommerce/README.md) as a field default (第五篇 客服工作职责).

Roles are staff targets of ``[staff]``: a role (``ecommerce_supervisor``), a person or a
rota (``rota:packer``). A shop may name its own people for any role; otherwise the
section's apply.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kefu.api import Duration, PluginContext


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RolesConfig(_Strict):
    """Who does what (第五篇): 主管, 售前客服, 售后客服, 打单, 仓库, as staff targets."""

    supervisor: str = Field(default="ecommerce_supervisor", description="部门主管: escalations, the daily digest")
    presales: str = Field(default="ecommerce_presales", description="售前客服: order changes, special requests")
    aftersales: str = Field(default="ecommerce_aftersales", description="售后客服: refunds, recalls, returns")
    packer: str = Field(default="ecommerce_packer", description="打单: packer/printer; notices, 原包裹已收到")
    warehouse: str = Field(default="ecommerce_warehouse", description="仓库: slips and parcels retrieved")


class ShopConfig(_Strict):
    """One shop (``[ecommerce.shops.<key>]``): its platform, its push secret and its calendar."""

    name: str = ""
    platform: Literal["taobao", "tmall", "jd", "pdd", "other"] = "taobao"
    push_secret: str | None = Field(
        default=None,
        description="the *name* of the secret holding the HMAC key of POST /ecommerce/orders; no push without it",
    )
    ships_on: Literal["working_days", "every_day"] = Field(
        default="working_days",
        description="shipping days: the [calendar]'s working days (default; the seed is silent) or every day",
    )
    cutoff: time | None = Field(default=None, description="this shop's cutoff, else the section's")
    roles: dict[str, str] = Field(default_factory=dict, description="role → staff target overriding [ecommerce.roles]")


class DisputesConfig(_Strict):
    """Refunds and disputes (主管每日查看店铺退款中以及维权中的订单)."""

    untouched: Duration = Field(default=timedelta(hours=24), description="a dispute untouched this long escalates")
    before_deadline: Duration = Field(
        default=timedelta(hours=12),
        description="a dispute this close to the platform's deadline (举证超时/超时时间) escalates (default)",
    )
    resolve_within: Duration = Field(
        default=timedelta(days=7), description="a dispute case is settled within this (after-sales, then supervisor)"
    )
    digest_hour: int = Field(default=9, ge=0, le=23, description="local hour of the daily digest (default)")


class ReturnsConfig(_Strict):
    """Returns and exchanges (售后客服 ③④)."""

    tracking_within: Duration = Field(
        default=timedelta(days=3),
        description="a return tracking number not given this long after the reply → reminded (3 d, default)",
    )
    photo_words: list[str] = Field(
        default_factory=lambda: ["质量问题", "坏了", "破损", "开胶", "断了", "脱线", "有瑕疵", "次品"],
        description="words that make a return claim a quality fault (photos are requested)",
    )
    return_words: list[str] = Field(default_factory=lambda: ["退货", "换货", "退换", "退款退货"])


class TransfersConfig(_Strict):
    """Bank transfers (银行转账明细表): followed up daily until matched to an order."""

    follow_up_hour: int = Field(default=10, ge=0, le=23, description="local hour of the daily follow-up")


class ClassifyConfig(_Strict):
    """Words that make a buyer's mail or SMS an order change, special request or cancellation."""

    address_words: list[str] = Field(default_factory=lambda: ["修改地址", "改地址", "地址改", "新地址", "地址写错"])
    attribute_words: list[str] = Field(default_factory=lambda: ["修改成", "改成", "换成", "尺码", "颜色", "码数"])
    special_words: list[str] = Field(default_factory=lambda: ["发票", "贺卡", "送货时间", "发顺丰", "发圆通", "快递"])
    cancel_words: list[str] = Field(default_factory=lambda: ["不想要了", "不要了", "取消订单", "退款", "不想买了"])
    ask_words: list[str] = Field(
        default_factory=lambda: ["什么时候发货", "几时发货", "何时发货", "发货了吗", "哪天发货", "多久发货"],
        description="a question about the shipping date (answered with the promise)",
    )
    sent_back_words: list[str] = Field(
        default_factory=lambda: ["退货", "寄回", "退回"],
        description="with a tracking number: the buyer sends the return's tracking number",
    )


class EcommerceConfig(_Strict):
    """The ``[ecommerce]`` section."""

    shops: dict[str, ShopConfig] = Field(default_factory=dict, description="shop key → shop")
    default_shop: str | None = Field(default=None, description="the shop of a file or message naming none")
    roles: RolesConfig = Field(default_factory=RolesConfig)
    cutoff: time = Field(default=time(16, 0), description="paid before it with stock → ships today (seed: 16:00)")
    remark_author: str = Field(default="客服", description="the name that ends a remark when no staff key is given")
    retrieve_within: Duration = Field(
        default=timedelta(hours=2),
        description="the warehouse hands back a printed slip or packed parcel within this (default)",
    )
    refund_within: Duration = Field(
        default=timedelta(hours=24), description="after-sales refunds within this once the refund step opens (default)"
    )
    late_ack_within: Duration = Field(
        default=timedelta(hours=4),
        description="the supervisor takes up a missed shipping promise within this, else reminded (default)",
    )
    push_max_age: Duration = Field(
        default=timedelta(minutes=5), description="a signed push older than this is refused (a replay)"
    )
    maps: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="map name → field → header spellings; extends or replaces the ready maps (imports.MAPS)",
    )
    disputes: DisputesConfig = Field(default_factory=DisputesConfig)
    returns: ReturnsConfig = Field(default_factory=ReturnsConfig)
    transfers: TransfersConfig = Field(default_factory=TransfersConfig)
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)

    def role(self, role: str, shop: str | None = None) -> str:
        """The staff target of ``role`` (supervisor, presales …) for ``shop``."""
        spec = self.shops.get(shop or "")
        if spec is not None and role in spec.roles:
            return spec.roles[role]
        return str(getattr(self.roles, role))

    def cutoff_of(self, shop: str | None) -> time:
        """The shop's cutoff time (16:00 unless the shop sets its own)."""
        spec = self.shops.get(shop or "")
        return spec.cutoff if spec is not None and spec.cutoff is not None else self.cutoff

    def shop_key(self, given: str | None) -> str:
        """The shop a file or message means: the one given, else the default, else the only one."""
        if given:
            return given
        if self.default_shop:
            return self.default_shop
        if len(self.shops) == 1:
            return next(iter(self.shops))
        return "default"


Ctx = PluginContext[EcommerceConfig]
