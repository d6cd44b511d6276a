"""The heating table's pure rules, one test per row of plugins/heating/README.md (no database)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kefu.plugins.heating import rules
from kefu.plugins.heating.config import HeatingConfig

CFG = HeatingConfig.model_validate(
    {
        "cs_centre_head": "liu",
        "branches": {"B1": {"name": "长白分公司", "head": "zhao"}},
        "stations": {"S01": {"name": "一号站", "branch": "B1"}},
    }
)
KW = CFG.keywords


@pytest.mark.parametrize(
    "text", ["3号楼暖气漏水了", "楼道里跑水", "阀门冒汽", "暖气片滴漏", "跑冒滴漏，快来", "暖气不热，而且漏水"]
)
def test_leak_words_classify_as_leak(text: str) -> None:
    assert rules.classify_text(text, KW) == "leak"


@pytest.mark.parametrize("text", ["暖气不热", "室温低，才16度", "暖气凉凉的", "家里温度低"])
def test_general_words_classify_as_general_complaint(text: str) -> None:
    assert rules.classify_text(text, KW) == "general"


def test_unrelated_text_is_not_claimed() -> None:
    assert rules.classify_text("请问物业电话多少", KW) is None


def test_keywords_are_extended_in_config() -> None:
    cfg = HeatingConfig.model_validate({"keywords": {"leak": ["地暖分水器坏了"]}})
    assert rules.classify_text("地暖分水器坏了", cfg.keywords) == "leak"
    assert rules.classify_text("地暖分水器坏了", KW) is None


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("满意", True),
        ("1", True),
        ("１", True),
        (" 满意！", True),
        ("非常满意，谢谢", True),
        ("不满意", False),
        ("2", False),
        ("还是不满意，没解决", False),
        ("２", False),
        ("2号楼", None),
        ("收到", None),
        ("", None),
        ("12", None),
    ],
)
def test_callback_answer_parsing(reply: str, verdict: bool | None) -> None:
    assert rules.parse_callback_answer(reply, KW) is verdict


def test_temperature_threshold_is_strictly_below_18() -> None:
    assert rules.is_low_temperature(17.9, CFG.temperature.threshold_c)
    assert not rules.is_low_temperature(18.0, CFG.temperature.threshold_c)


def test_season_is_nov_1_to_mar_31() -> None:
    s = CFG.season
    assert rules.season_bounds(2026, s) == (date(2026, 11, 1), date(2027, 3, 31))
    assert rules.in_season(date(2026, 11, 1), s) and rules.in_season(date(2027, 3, 31), s)
    assert not rules.in_season(date(2026, 10, 31), s) and not rules.in_season(date(2027, 4, 1), s)
    assert rules.season_year_of(date(2027, 1, 15), s) == 2026
    assert rules.season_year_of(date(2026, 10, 8), s) == 2026


def test_fee_campaigns_run_on_the_configured_dates_only() -> None:
    s = CFG.season
    assert rules.fee_campaign_on(date(2026, 10, 8), s) == "before"
    assert rules.fee_campaign_on(date(2026, 12, 15), s) == "during"
    assert rules.fee_campaign_on(date(2026, 12, 16), s) is None
    moved = HeatingConfig.model_validate({"season": {"reminders_before": ["09-30"]}}).season
    assert rules.fee_campaign_on(date(2026, 9, 30), moved) == "before"


def test_fee_campaign_selects_each_owing_reachable_household_once() -> None:
    picked = rules.fee_reminder_recipients(
        [
            rules.FeeDebtor("A", "+86139", 100.0),
            rules.FeeDebtor("A", "+86139", 100.0),
            rules.FeeDebtor("B", "+86138", 0.0),
            rules.FeeDebtor("C", None, 50.0),
            rules.FeeDebtor("D", "+86137", 50.0, opted_out=True),
        ]
    )
    assert [d.account for d in picked] == ["A"]


def test_escalation_chain_is_station_duty_then_branch_head_then_cs_head() -> None:
    assert rules.escalation_chain("S01", CFG) == ["rota:station-S01", "zhao", "liu"]
    assert rules.escalation_chain(None, CFG) == ["liu"]


def test_escalation_level_is_that_entry_of_the_chain_and_its_top_past_the_end() -> None:
    assert [rules.escalation_level("S01", n, CFG) for n in (1, 2, 3)] == [["rota:station-S01"], ["zhao"], ["liu"]]
    # no known station: every level is the CS-centre head, as the core repeats a chain's top
    assert [rules.escalation_level(None, n, CFG) for n in (1, 2, 3)] == [["liu"], ["liu"], ["liu"]]


def test_outage_causes_fall_into_the_seeds_two_groups() -> None:
    assert rules.outage_cause_group("停水") == rules.outage_cause_group("停电") == "water_power"
    assert rules.outage_cause_group("设备故障") == rules.outage_cause_group("管网渗漏") == "equipment_pipe"
    assert rules.outage_cause_group("其它") == "other"


def test_visit_minimum_weekly() -> None:
    week = date(2026, 11, 2)
    visits = [rules.Visit("S01", date(2026, 11, 3))]
    assert rules.week_shortfalls(visits, ["S01", "S02"], week, 1) == {"S02": "本周走访 0 次，少于 1 次"}


def test_visit_minimum_monthly_and_far_end_households() -> None:
    month = date(2026, 11, 1)
    visits = [rules.Visit("S01", date(2026, 11, d), f"A{d}", far_end=True) for d in range(1, 7)]
    visits += [rules.Visit("S02", date(2026, 11, d), "B1", far_end=True) for d in range(1, 7)]
    short = rules.month_shortfalls(visits, ["S01", "S02"], month, 6, 5)
    assert "S01" not in short
    assert short["S02"] == ["本月走访远端用户 1 户，少于 5 户"]
    assert rules.month_shortfalls(visits[:5], ["S01"], month, 6, 5)["S01"][0] == "本月走访 5 次，少于 6 次"


def test_coal_double_test_within_tolerance_gives_the_mean() -> None:
    r = rules.coal_double_test("sulfur_pct", 0.61, 0.65, CFG.coal_lab.tolerance, CFG.coal_lab.default_tolerance)
    assert not r.retest and r.mean == 0.63


def test_coal_double_test_beyond_tolerance_asks_for_retest() -> None:
    r = rules.coal_double_test("sulfur_pct", 0.61, 0.70, CFG.coal_lab.tolerance, CFG.coal_lab.default_tolerance)
    assert r.retest and r.mean is None


def test_basement_extension_counts_only_over_2_2_m() -> None:
    assert rules.audit_finding_counts("basement_extension", 2.3, 2.2)
    assert not rules.audit_finding_counts("basement_extension", 2.2, 2.2)
    assert rules.audit_finding_counts("private_area_increase", None, 2.2)


def test_reply_timeliness_per_station_and_person() -> None:
    due = datetime(2026, 11, 2, 13)
    rows = [
        rules.TimelinessRow("S01", "zhang", due, datetime(2026, 11, 2, 12)),
        rules.TimelinessRow("S01", "li", due, datetime(2026, 11, 2, 14)),
        rules.TimelinessRow("S02", "wang", due, None),
    ]
    assert rules.reply_timeliness(rows, "station") == {"S01": (1, 2, 0.5), "S02": (0, 1, 0.0)}
    assert rules.reply_timeliness(rows, "person")["zhang"] == (1, 1, 1.0)


def test_complaint_rate_per_thousand_households() -> None:
    assert rules.complaint_rate({"S01": 3}, {"S01": 600, "S02": 400}) == {"S01": 5.0, "S02": 0.0}


def test_config_rejects_a_station_of_an_unknown_branch() -> None:
    with pytest.raises(ValueError, match="not one of"):
        HeatingConfig.model_validate(
            {"branches": {"B1": {"name": "x", "head": "h"}}, "stations": {"S9": {"name": "y", "branch": "B7"}}}
        )


def test_callback_answer_ignores_the_quoted_question_in_a_mail_reply() -> None:
    reply = "不满意，还在滴水\n\n在 2026年11月2日 写道：\n> 请回复：满意 或 1；不满意 或 2"
    assert rules.parse_callback_answer(reply, KW) is False
    assert rules.parse_callback_answer("满意\n-----原始邮件-----\n不满意 或 2", KW) is True


@pytest.mark.parametrize(
    ("text", "temp"),
    [
        ("室温只有15度", 15.0),
        ("家里16.5℃，太冷", 16.5),
        ("屋里才１４度", 14.0),
        ("暖气不热", None),
        ("3号楼2单元", None),
    ],
)
def test_a_stated_room_temperature_is_read(text: str, temp: float | None) -> None:
    assert rules.reported_temperature(text) == temp


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("请问什么时候来暖", "outage"),
        ("我们楼停暖了", "outage"),
        ("暂停供热到几号", "outage"),
        ("采暖费怎么交", "fee"),
        ("缴费后能开发票吗", "fee"),
        ("停暖了，暖气片还漏水", "leak"),
        ("暖气不热", "general"),
    ],
)
def test_outage_and_fee_questions_have_categories_of_their_own(text: str, category: str) -> None:
    found = rules.match_text(text, KW, CFG.score.weights)
    assert found is not None and found.category == category


def test_a_specific_word_weighs_more_than_a_generic_one_and_counts_once() -> None:
    weights = CFG.score.weights
    # 暖气不热 (2) is not also 不热: it counts once, as the specific phrase.
    assert rules.words_score({"暖气不热", "不热"}, weights) == 2.0
    assert rules.match_text("我要投诉", KW, weights).score < rules.match_text("暖气片漏水", KW, weights).score


def test_the_senders_standing_adds_only_to_an_item_the_words_matched() -> None:
    score = CFG.score
    assert rules.claim_score(1.0, customer=True, score=score) == 1.0 + score.customer
    assert rules.claim_score(1.0, customer=False, score=score) == 1.0
    assert rules.claim_score(0.0, customer=True, score=score) == 0.0


def test_score_weights_come_from_config() -> None:
    cfg = HeatingConfig.model_validate({"score": {"weights": {"漏水": 5}}})
    assert rules.match_text("漏水", cfg.keywords, cfg.score.weights).score == 5.0
