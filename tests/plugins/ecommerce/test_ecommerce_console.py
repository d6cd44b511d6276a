"""The desk in the staff console: each action a real POST (CSRF, Origin) by a signed-in person,
calling the desk's functions with that person as the actor; shops as units (another shop's
agent gets 403); the pages' rows as the desk computes them, buyer data masked."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.console.auth import set_password
from kefu.db.engine import transaction
from kefu.db.models import Case
from kefu.plugins.ecommerce import desk, disputes, imports, kinds, promise
from kefu.plugins.ecommerce.models import BankTransfer, Order, Remark
from kefu.testing.files import write_csv
from kefu.testing.fixtures import merge
from kefu.testing.mail import build_mail, deliver_to_maildir
from tests.console.conftest import PASSWORD, Client

from .conftest import STAFF, TAOBAO_HEADER, in_tx, taobao_row

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
NOT_PRINTED, PRINTED, SHIPPED = "3391234567890123451", "3391234567890123452", "3391234567890123453"
OUTLET = "4401234567890123451"  # an order of the second shop
TICK = {"confirmed": "1"}  # the confirm box of 登记付款后取消 and 退款, ticked

ACCESS = {
    "people": {"out": {"name": "奥莱客服小吴", "phone": "+8613800000207", "email": "out@shop.test"}},
    "access": {
        "boss": {"role": "head", "plugins": ["ecommerce"]},
        "pre": {"role": "agent", "plugins": ["ecommerce"], "units": ["main"]},
        "after": {"role": "agent", "plugins": ["ecommerce"], "units": ["main"]},
        "pack": {"role": "duty", "plugins": ["ecommerce"], "units": ["main"]},
        "out": {"role": "agent", "plugins": ["ecommerce"], "units": ["outlet"]},
    },
}


@pytest.fixture
def shop(ecommerce_app, clock, tmp_path: Path):
    """Two shops (main: the demo report; outlet: one order), the console on, everyone's password set."""
    box = tmp_path / "buyers"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    app = ecommerce_app(
        ecommerce={"shops": {"main": {"name": "某某旗舰店"}, "outlet": {"name": "某某奥莱店"}}},
        config={
            "staff": merge(STAFF, ACCESS),
            "console": {"enabled": True, "port": 0},
            "channels": {"maildir": {"buyers": {"path": str(box)}}},
        },
    )
    clock.set(datetime.fromisoformat("2026-12-02T10:00:00+08:00"))
    outlet = write_csv(tmp_path / "outlet.csv", TAOBAO_HEADER, [taobao_row(OUTLET, buyer="tb_outlet", receiver="吴六")])
    for name, file in (("taobao", "taobao_orders.csv"), ("edb", "edb_orders.csv")):  # edb: 3452 已打单
        in_tx(app, lambda ctx, n=name, f=file: pipeline.run(ctx, imports.OrderImport(ctx, n, "main"), DEMO / f))
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao", "outlet"), outlet))
    with transaction(app.sessions) as session:
        for key in ACCESS["access"]:
            set_password(session, key, PASSWORD, app.clock.now())
    made: list[Client] = []

    def client(key: str) -> Client:
        c = Client(app)
        assert c.sign_in(key).status_code == 303
        made.append(c)
        return c

    yield app, client, box
    for c in made:
        c.http.close()


def _flash(response: Any) -> dict[str, str]:
    """The ok= / err= line a POST redirects with."""
    assert response.status_code == 303, response.text[:300]
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


def _case(app, kind: str) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == f"ecommerce.{kind}").order_by(Case.id.desc())).first()
        assert case is not None
        s.expunge_all()
        return case


def _order(app, number: str) -> Order:
    with app.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_no == number)).one()
        s.expunge_all()
        return order


def _events(app, case: Case) -> list[Any]:
    with app.sessions() as s:
        events = list(s.scalars(select(Case).where(Case.id == case.id)).one().events)
        s.expunge_all()
        return events


def test_the_desk_registers_its_actions_and_pages_through_the_hook(shop) -> None:
    _app, client, _box = shop
    page = client("boss").get("/plugin/ecommerce").text
    for title in (
        "订单查询",
        "退款中 / 维权中",
        "未匹配的银行转账",
        "超过承诺发货日未发货",
        "已打包",
        "登记改单/特殊要求",
    ):
        assert title in page, title
    assert 'name="shop"' in page  # two shops: the shop select is drawn


def test_staff_entry_of_a_change_takes_the_buyer_mail_branch_then_amended_is_remarked(shop) -> None:
    app, client, _box = shop
    pre = client("pre")
    done = _flash(pre.post("/plugin/ecommerce/change", {"order_no": PRINTED, "change": "address", "text": "新地址X"}))
    assert "已打单" in done["ok"], done
    case = _case(app, "change")
    assert (case.unit, case.step, case.owner) == ("main", kinds.AMEND_SLIPS, "pre")
    assert any(e.actor == "pre" for e in _events(app, case))
    page = pre.get(f"/case/{case.number}").text
    assert "已在发货单与快递单上修改妥当" in page
    done = _flash(pre.post(f"/case/{case.number}/plugin/ecommerce/amended"))
    assert "已在发货单与快递单上修改妥当" in done["ok"] and "售前小王" in done["ok"], done
    assert _case(app, "change").state == "resolved"
    with app.sessions() as s:
        (remark,) = s.scalars(select(Remark)).all()
        assert remark.author == "售前小王" and remark.flag == 1
    # a special request on an unprinted order: remarked and the packer told, as a buyer's mail is
    done = _flash(pre.post("/plugin/ecommerce/change", {"order_no": NOT_PRINTED, "change": "special", "text": "贺卡"}))
    assert "未打单" in done["ok"], done
    assert _case(app, "change").state == "resolved"
    bad = _flash(
        pre.post("/plugin/ecommerce/change", {"order_no": "3399999999999999999", "change": "special", "text": "x"})
    )
    assert "没有订单" in bad["err"]


def test_the_packer_marks_packed_on_the_page(shop) -> None:
    app, client, _box = shop
    pack = client("pack")
    done = _flash(pack.post("/plugin/ecommerce/packed", {"order_no": PRINTED}))
    assert "已打包" in done["ok"], done
    assert _order(app, PRINTED).print_state == "已打包"
    again = _flash(pack.post("/plugin/ecommerce/packed", {"order_no": SHIPPED}))
    assert "未变" in again["ok"] and _order(app, SHIPPED).print_state == "已发货"
    # a missing CSRF token changes nothing
    pack.csrf = "wrong"
    assert pack.post("/plugin/ecommerce/packed", {"order_no": NOT_PRINTED}).status_code == 403
    assert _order(app, NOT_PRINTED).print_state == "未打单"


def test_refund_is_refused_before_the_parcel_is_received_and_allowed_after(shop) -> None:
    app, client, _box = shop
    after, pack = client("after"), client("pack")
    done = _flash(after.post("/plugin/ecommerce/cancel", {"order_no": SHIPPED, **TICK}))
    case = _case(app, "cancel")
    assert case.step == kinds.RECALL and case.unit == "main", done
    refused = after.post(f"/case/{case.number}/plugin/ecommerce/refund", TICK)
    err = _flash(refused)["err"]
    assert "原包裹尚未收到" in err
    assert "原包裹尚未收到" in after.get(refused.headers["location"]).text  # shown on the case page
    assert _case(app, "cancel").state != "resolved"
    # duty staff (打单) may not refund, but sign the parcel in
    assert pack.post(f"/case/{case.number}/plugin/ecommerce/refund").status_code == 403
    done = _flash(pack.post(f"/case/{case.number}/plugin/ecommerce/received"))
    assert "原包裹已收到" in done["ok"], done
    assert _case(app, "cancel").step == kinds.REFUND
    done = _flash(after.post(f"/case/{case.number}/plugin/ecommerce/refund", TICK))
    assert "已退款" in done["ok"], done
    case = _case(app, "cancel")
    assert case.state == "resolved" and case.data["received_by"] == "pack"
    assert any(e.actor == "after" and e.to_state == "resolved" for e in _events(app, case))


def test_void_then_refund_on_an_unprinted_cancel(shop) -> None:
    app, client, _box = shop
    pre, pack = client("pre"), client("pack")
    _flash(pre.post("/plugin/ecommerce/cancel", {"order_no": NOT_PRINTED, **TICK}))
    case = _case(app, "cancel")
    assert case.step == kinds.VOID
    assert "退款" in _flash(pack.post(f"/case/{case.number}/plugin/ecommerce/done"))["ok"]
    assert "已退款" in _flash(pre.post(f"/case/{case.number}/plugin/ecommerce/refund", TICK))["ok"]


def test_return_tracking_is_registered_on_the_case(shop) -> None:
    app, client, _box = shop
    with transaction(app.sessions) as s:
        ctx = app.context("ecommerce", s)
        order = ctx.db().scalars(select(Order).where(Order.order_no == SHIPPED)).one()
        case = desk.case_for(ctx, order, kinds.RETURN, title="退货")
        desk.start_return(ctx, case, order, quality=False)
        number = case.number
    after = client("after")
    done = _flash(after.post(f"/case/{number}/plugin/ecommerce/tracking", {"number": "YT1234567890"}))
    assert "YT1234567890" in done["ok"], done
    assert _case(app, "return").step == kinds.RECEIVING
    assert _order(app, SHIPPED).return_tracking == "YT1234567890"
    assert "请填写" in _flash(after.post(f"/case/{number}/plugin/ecommerce/tracking", {"number": " "}))["err"]


def test_handling_a_dispute_restarts_its_untouched_clock(shop, clock) -> None:
    app, client, _box = shop
    with transaction(app.sessions) as s:
        ctx = app.context("ecommerce", s)
        order = ctx.db().scalars(select(Order).where(Order.order_no == SHIPPED)).one()
        order.dispute_state = "需要客服介入"
        number = disputes.open_dispute(ctx, order).number
    before = _order(app, SHIPPED).dispute_touched_at
    clock.advance(hours=5)
    done = _flash(client("after").post(f"/case/{number}/plugin/ecommerce/touch", {"note": "已上传举证"}))
    assert "重新开始" in done["ok"], done
    touched = _order(app, SHIPPED).dispute_touched_at
    assert before is not None and touched is not None and touched - before == timedelta(hours=5)
    assert any(e.actor == "after" and e.reason == "已上传举证" for e in _events(app, _case(app, "dispute")))


def test_a_bank_transfer_is_matched_to_an_order_of_its_shop(shop) -> None:
    app, client, _box = shop
    with transaction(app.sessions) as s:
        ctx = app.context("ecommerce", s)
        row = desk.register_transfer(
            ctx, shop="main", payer="张三丰", amount=Decimal("199.00"), paid_on=clock_day(app), contact="13900009999"
        )
        number = s.get(Case, row.case_id).number
    pre = client("pre")
    assert "没有订单" in _flash(pre.post(f"/case/{number}/plugin/ecommerce/match", {"order_no": OUTLET}))["err"]
    done = _flash(pre.post(f"/case/{number}/plugin/ecommerce/match", {"order_no": NOT_PRINTED}))
    assert NOT_PRINTED in done["ok"], done
    with app.sessions() as s:
        (transfer,) = s.scalars(select(BankTransfer)).all()
        assert transfer.order_no == NOT_PRINTED and transfer.matched_at is not None
    assert _case(app, "transfer").state == "resolved"


def clock_day(app) -> Any:
    return app.clock.now().date()


def _table(c: Client, title: str, **params: str) -> str:
    """The rows (tbody) of one table of the desk's console page."""
    text = c.get("/plugin/ecommerce", params=params).text
    section = text.split(title, 1)[1].split("</section>", 1)[0]
    return section.split("<tbody>", 1)[1] if "<tbody>" in section else ""


def test_another_shops_agent_gets_403(shop, run_pass) -> None:
    app, client, box = shop
    pre, out = client("pre"), client("out")
    _flash(pre.post("/plugin/ecommerce/cancel", {"order_no": SHIPPED, **TICK}))
    main_case = _case(app, "cancel")
    assert out.get(f"/case/{main_case.number}").status_code == 403
    for action in ("refund", "received"):
        assert out.post(f"/case/{main_case.number}/plugin/ecommerce/{action}").status_code == 403
    # the page actions check the order's shop as the case pages check the case's
    for action, data in (
        ("packed", {"order_no": PRINTED}),
        ("change", {"order_no": PRINTED, "change": "special", "text": "x"}),
        ("cancel", {"order_no": PRINTED, **TICK}),
        ("cancel", {"order_no": PRINTED}),  # unticked too: the scope is checked before the tick
    ):
        assert out.post(f"/plugin/ecommerce/{action}", data).status_code == 403, action
    assert _order(app, PRINTED).print_state == "已打单"
    assert "已打包" in _flash(out.post("/plugin/ecommerce/packed", {"order_no": OUTLET}))["ok"]
    # a buyer's mail about an outlet order: its case carries the shop as unit, seen by that shop only
    deliver_to_maildir(
        box, build_mail(sender="wu@buyer.test", subject="改地址", text=f"订单{OUTLET}修改地址，新地址为：上海市")
    )
    run_pass(app)
    mail_case = _case(app, "change")
    assert mail_case.unit == "outlet"
    assert out.get(f"/case/{mail_case.number}").status_code == 200
    assert pre.get(f"/case/{mail_case.number}").status_code == 403
    assert client("boss").get(f"/case/{mail_case.number}").status_code == 200


def test_pages_list_the_right_rows_masked(shop, clock) -> None:
    app, client, _box = shop
    with transaction(app.sessions) as s:
        ctx = app.context("ecommerce", s)
        orders = {o.order_no: o for o in ctx.db().scalars(select(Order))}
        orders[SHIPPED].refund_status, orders[SHIPPED].needs_return = "退款中", True
        orders[SHIPPED].refund_deadline = clock.now() + timedelta(days=2)
        orders[OUTLET].refund_status = "退款中"
        case_number = desk.case_for(ctx, orders[SHIPPED], kinds.CANCEL, title="取消").number
        desk.register_transfer(ctx, shop="main", payer="张三丰", amount=Decimal("88"), paid_on=clock_day(app))
        desk.register_transfer(ctx, shop="outlet", payer="李四", amount=Decimal("66"), paid_on=clock_day(app))
        digest_rows = [(r.shop, r.order_no) for r in disputes.digest_rows(ctx)]
        late_rows = [(o.shop, o.order_no) for o in promise.late_orders(ctx, ctx.local_now().date())]
    assert digest_rows and late_rows
    pre, out, boss = client("pre"), client("out"), client("boss")

    page = _table(pre, "订单查询", order_no=SHIPPED)
    assert f"<td>{SHIPPED}</td>" in page and "t*****o" in page and "赵*" in page and "139****3333" in page
    assert f"<td>{case_number}</td>" in page  # the order's cases
    for raw in ("tb_zhao", "赵敏", "13900003333", "漕溪北路"):
        assert raw not in page, raw
    assert f"<td>{SHIPPED}</td>" not in _table(out, "订单查询", order_no=SHIPPED)  # another shop's order
    assert _table(pre, "订单查询") == ""  # a lookup lists nothing before a number is typed
    assert _table(pre, "订单查询", order_no="33912345").count("<tr>") == 5  # a prefix: the demo's five

    digest = _table(boss, "主管日报")
    assert [n for _s, n in digest_rows] == [n for n in (SHIPPED, OUTLET)]
    assert digest.index(SHIPPED) < digest.index(OUTLET)  # nearest platform deadline first
    assert "需退货未填退货单号" in digest and "tb_zhao" not in digest
    mine = _table(pre, "主管日报")
    assert SHIPPED in mine and OUTLET not in mine
    late = _table(pre, "超过承诺发货日未发货")
    assert all((f"<td>{n}</td>" in late) == (s == "main") for s, n in late_rows)
    transfers = _table(pre, "未匹配的银行转账")
    assert "张**" in transfers and "张三丰" not in transfers and "李*" not in transfers
    assert 'href="/case/ET-' in transfers
    assert "李*" in _table(out, "未匹配的银行转账")
