"""One test per row of plugins/complaints/README.md's rule table, on the pure rules (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from kefu.plugins.complaints import rules
from kefu.plugins.complaints.config import ComplaintsConfig

CFG = ComplaintsConfig()


def test_repair_report_is_classified_and_a_leak_gets_the_48h_class() -> None:
    assert rules.classify_text("3栋1201卫生间漏水，楼下也渗水了", CFG) == "repair"
    assert rules.repair_class("卫生间漏水", CFG.repair) == "plumbing_leak"
    assert CFG.repair.classes["plumbing_leak"].closure == timedelta(hours=48)
    assert rules.repair_class("客厅墙面开裂", CFG.repair) == "general"
    assert CFG.repair.classes["general"].closure == timedelta(days=7)


def test_repair_steps_have_domain_deadlines() -> None:
    assert CFG.repair.steps["沟通联系"].within == timedelta(hours=2)
    assert CFG.repair.steps["沟通联系"].clock == "workday"
    assert CFG.repair.steps["现场查看"].within == timedelta(hours=24)
    assert rules.next_repair_step(None) == "沟通联系"
    assert rules.next_repair_step("工作指派") == "维修关闭"
    assert rules.next_repair_step("维修关闭") is None


def test_escalation_goes_engineer_then_manager_then_head() -> None:
    assert CFG.repair.escalation == ["repair_engineer", "repair_manager", "head"]
    assert rules.escalation_target(CFG.repair.escalation, 1) == "repair_manager"
    assert rules.escalation_target(CFG.repair.escalation, 2) == "head"


def test_complaint_inquiry_suggestion_classified_and_complaint_wins() -> None:
    assert rules.classify_text("我要投诉维修太慢，漏水一周没人管", CFG) == "complaint"
    assert rules.classify_text("请问什么时候办理产权证", CFG) == "inquiry"
    assert rules.classify_text("建议小区增加充电桩", CFG) == "suggestion"
    assert rules.classify_text("你好", CFG) is None
    assert CFG.feedback.reply_within == timedelta(hours=24)
    assert CFG.feedback.resolve_within == timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "score"),
    [("5", 5), ("５分", 5), ("给3分", 3), ("非常满意", 5), ("不满意", 1), ("谢谢", None), ("1到5我给3", None)],
)
def test_callback_reply_score(text: str, score: int | None) -> None:
    assert rules.parse_score(text) == score


def test_callback_low_score_reopens_and_is_due_within_3_days() -> None:
    assert CFG.callback.within == timedelta(days=3)
    assert rules.is_low_score(2, CFG.callback.reopen_below)
    assert not rules.is_low_score(3, CFG.callback.reopen_below)


def test_warranty_table_periods_from_delivery() -> None:
    w = CFG.warranty
    delivered = date(2024, 6, 1)
    assert rules.warranty_expiry(delivered, w.items["waterproofing"], w) == date(2029, 5, 31)
    assert rules.warranty_expiry(delivered, w.items["exterior_wall"], w) == date(2029, 5, 31)
    for item in ("electrical", "plumbing", "equipment", "decoration"):
        assert rules.warranty_expiry(delivered, w.items[item], w) == date(2026, 5, 31)
    assert not w.items["structure"].notify


@pytest.mark.parametrize(
    ("delivered", "expires"),
    [
        (date(2024, 6, 1), date(2026, 3, 31)),  # seasons 2024/25 and 2025/26
        (date(2024, 12, 1), date(2027, 3, 31)),  # the running season does not count
        (date(2024, 2, 1), date(2026, 3, 31)),  # delivered in the 2023/24 season
    ],
)
def test_heating_warranty_is_two_heating_seasons(delivered: date, expires: date) -> None:
    assert rules.warranty_expiry(delivered, CFG.warranty.items["heating_cooling"], CFG.warranty) == expires


def test_warranty_notices_60_and_30_days_before_and_only_the_latest_when_late() -> None:
    expires = date(2026, 5, 31)
    assert rules.notice_dates(expires, [60, 30]) == [(60, date(2026, 4, 1)), (30, date(2026, 5, 1))]
    assert rules.due_notice(expires, [60, 30], date(2026, 3, 31)) is None
    assert rules.due_notice(expires, [60, 30], date(2026, 4, 1)) == (60, date(2026, 4, 1))
    assert rules.due_notice(expires, [60, 30], date(2026, 5, 2)) == (30, date(2026, 5, 1))
    assert rules.due_notice(expires, [60, 30], date(2026, 6, 1)) is None


def test_warranty_per_project_override() -> None:
    cfg = ComplaintsConfig.model_validate(
        {"projects": {"JY": {"name": "锦园", "warranty": {"decoration": {"title": "装修工程", "years": 3}}}}}
    )
    assert cfg.warranty_for("JY")["decoration"].years == 3
    assert cfg.warranty_for("OTHER")["decoration"].years == 2


def test_delivery_windows_contain_every_home_with_a_notice_due() -> None:
    for today in (date(2026, 4, 1), date(2026, 2, 15), date(2028, 3, 1), date(2026, 7, 1)):
        windows = rules.delivery_windows(CFG.warranty.items, CFG.warranty, today)
        day = date(2019, 1, 1)
        while day < date(2028, 1, 1):
            if rules.home_notices(day, CFG.warranty.items, CFG.warranty, today):
                assert any(low <= day <= high for low, high in windows), (today, day)
            day += timedelta(days=1)


def test_compensation_negotiation_15_days() -> None:
    assert CFG.compensation.negotiation_within == timedelta(days=15)


def test_post_delivery_assessment_one_month_then_30_days() -> None:
    assert rules.assessment_date(date(2026, 1, 31), CFG.assessment.after_delivery_months) == date(2026, 2, 28)
    assert CFG.assessment.rectification_within == timedelta(days=30)


def test_milestones_14_days_before() -> None:
    cfg = ComplaintsConfig.model_validate(
        {"projects": {"JY": {"name": "锦园", "milestones": {"sales_open": "2026-12-01", "kickoff": "2026-11-20"}}}}
    )
    tasks = rules.milestone_tasks("JY", cfg.projects["JY"], cfg.assessment.milestones, 14)
    assert [(t.title, t.task_on) for t in tasks] == [("项目启动会", date(2026, 11, 6)), ("开盘前", date(2026, 11, 17))]
    with pytest.raises(ValidationError, match="unknown milestone"):
        ComplaintsConfig.model_validate({"projects": {"JY": {"name": "x", "milestones": {"party": "2026-01-01"}}}})


def test_defect_trade_from_text() -> None:
    assert rules.trade_for("卫生间渗水", CFG.reports.trades) == "防水"
    assert rules.trade_for("莫名其妙", CFG.reports.trades) == "其他"


def test_kpis_closure_rate_timeliness_satisfaction() -> None:
    k = rules.kpi([(True, True, 5), (True, False, 2), (False, False, None), (True, True, None)])
    assert k.closure_rate == 0.75
    assert k.timeliness == pytest.approx(2 / 3)
    assert k.satisfaction == 3.5
    assert rules.previous_month(date(2026, 12, 1)) == "2026-11"


def test_config_rejects_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        ComplaintsConfig.model_validate({"repiar": {}})
    with pytest.raises(ValidationError, match="default_class"):
        ComplaintsConfig.model_validate({"repair": {"default_class": "nope"}})
    with pytest.raises(ValidationError):
        ComplaintsConfig.model_validate({"warranty": {"notice_days_before": [0]}})


@pytest.mark.parametrize("text", ["咨询一下卫生间漏水是否在保修期", "请问我家漏水还在保修期吗", "请问维修怎么收费"])
def test_an_inquiry_is_told_from_a_repair_by_its_stronger_words(text: str) -> None:
    assert rules.classify_text(text, CFG) == "inquiry"


def test_a_repair_report_with_a_generic_question_word_stays_a_repair() -> None:
    assert rules.classify_text("卫生间漏水了，什么时候能来修", CFG) == "repair"
    assert rules.classify_text("我要报修，请问什么时候能来", CFG) == "repair"  # 报修 ties 请问: order


def test_property_context_words_add_to_a_match_but_never_make_one() -> None:
    plain = rules.match_text("漏水了", CFG)
    rooms = rules.match_text("卫生间漏水了，楼下也有", CFG)
    assert plain is not None and rooms is not None and rooms.score > plain.score
    assert rules.match_text("卫生间很好看", CFG) is None


def test_a_contractors_phone_is_stored_in_e164_and_an_impossible_one_is_refused() -> None:
    cfg = ComplaintsConfig.model_validate(
        {"contractors": {"hengan": {"name": "恒安", "phone": "139 0000 0061"}}}, context={"country": "CN"}
    )
    assert cfg.contractors["hengan"].phone == "+8613900000061"
    with pytest.raises(ValidationError, match="not a possible phone number"):
        ComplaintsConfig.model_validate({"contractors": {"hengan": {"name": "恒安", "phone": "1390000"}}})
