"""The ecommerce plugin's case kinds (named without the plugin's name; the core puts it in front)."""

from __future__ import annotations

from kefu.api import Case, CaseKind, DeadlinePolicy, Level
from kefu.plugins.ecommerce.config import EcommerceConfig

CHANGE = "change"  # 修改订单 / 特殊要求
CANCEL = "cancel"  # 拍下付款后取消
ASK = "ask"  # 发货时间咨询
LATE = "late"  # 未按承诺发货
DISPUTE = "dispute"  # 维权 (客服介入)
RETURN = "return"  # 退换货
TRANSFER = "transfer"  # 银行转账

# Steps of an order change, one per branch of 售前 ⑥ (the print state when the request came).
NOTE_AND_TELL = "备注并通知打单"
AMEND_SLIPS = "取回发货单快递单修改"
REPRINT = "取回包裹重新打单"
TO_AFTERSALES = "转售后"
# Steps of a cancellation (售前 ⑤, 售后 ②).
VOID = "通知打单作废"
RETRIEVE = "仓库取回单据或包裹"
RECALL = "快递撤回包裹"
REFUND = "退款"
# Steps of a return (售后 ③④).
PHOTOS = "待买家照片"
TRACKING = "待退货单号"
RECEIVING = "待收退货"


def _received_first(case: Case, to_state: str) -> str | None:
    """No refund and no closing of a recall before the packer signs 原包裹已收到 (售后 ②)."""
    data = case.data or {}
    if to_state in ("resolved", "closed") and data.get("recall") and not data.get("received"):
        return "打单人员尚未在售后登记表上签“原包裹已收到” (kefu ecommerce received ORDER)"
    return None


def case_kinds(name: str, cfg: EcommerceConfig) -> list[CaseKind]:
    """The desk's kinds; step deadlines escalate along the roles of ``[ecommerce.roles]``."""
    r = cfg.roles
    return [
        CaseKind(
            name=f"{name}.{CHANGE}",
            title="修改订单/特殊要求",
            prefix="EC",
            steps=(NOTE_AND_TELL, AMEND_SLIPS, REPRINT, TO_AFTERSALES),
            policies=(
                DeadlinePolicy.for_step(AMEND_SLIPS, cfg.retrieve_within, chain=(r.warehouse, r.supervisor)),
                DeadlinePolicy.for_step(REPRINT, cfg.retrieve_within, chain=(r.warehouse, r.supervisor)),
            ),
        ),
        CaseKind(
            name=f"{name}.{CANCEL}",
            title="付款后取消",
            prefix="EX",
            steps=(VOID, RETRIEVE, RECALL, REFUND),
            guard=_received_first,
            policies=(
                DeadlinePolicy.for_step(RETRIEVE, cfg.retrieve_within, chain=(r.warehouse, r.supervisor)),
                DeadlinePolicy.for_step(REFUND, cfg.refund_within, chain=(r.aftersales, r.supervisor)),
            ),
        ),
        CaseKind(name=f"{name}.{ASK}", title="发货时间咨询", prefix="EQ"),
        CaseKind(
            name=f"{name}.{LATE}",
            title="未按承诺发货",
            prefix="EL",
            policies=(DeadlinePolicy.first_response(cfg.late_ack_within, chain=(Level(r.supervisor),)),),
        ),
        CaseKind(
            name=f"{name}.{DISPUTE}",
            title="维权处理",
            prefix="ED",
            policies=(DeadlinePolicy.resolution(cfg.disputes.resolve_within, chain=(r.aftersales, r.supervisor)),),
        ),
        CaseKind(
            name=f"{name}.{RETURN}",
            title="退换货",
            prefix="ER",
            steps=(PHOTOS, TRACKING, RECEIVING, REFUND),
            policies=(DeadlinePolicy.for_step(TRACKING, cfg.returns.tracking_within, chain=(r.aftersales,)),),
        ),
        CaseKind(name=f"{name}.{TRANSFER}", title="银行转账跟踪", prefix="ET"),
    ]
