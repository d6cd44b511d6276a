"""Templates: one sandboxed environment, strict variables, site override, filters, SMS length."""

from __future__ import annotations

import types
from datetime import date
from pathlib import Path

import pytest

from kefu.templating import (
    RenderError,
    check_templates,
    cn_date,
    mask_phone,
    money,
    render,
    sms_segments,
    template_env,
)
from kefu.testing.outbox import write_templates


def test_money_filter_writes_yuan_with_thousands_and_fen() -> None:
    assert money(1234.5) == "¥1,234.50"
    assert money("0.005") == "¥0.01"
    assert money(-20) == "-¥20.00"


def test_chinese_date_and_masked_phone_filters() -> None:
    assert cn_date(date(2026, 11, 2)) == "2026年11月2日"
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
    ],
)
def test_sms_segments_count_gsm7_for_ascii_and_ucs2_otherwise(text: str, parts: int) -> None:
    assert sms_segments(text) == parts


def test_sms_starts_with_signature_and_counts_it(outbound_app) -> None:
    app = outbound_app(outbound={"sms": {"signature": "【示例物业】", "max_segments": 1}})
    ok = render(app, "example/notice.txt", "sms", {"recipient_name": "张", "text": "中" * 60})
    assert ok.body.startswith("【示例物业】") and ok.segments == 1
    # 60 + signature (6) + "张：" fits in 70; with 64 characters it no longer does.
    with pytest.raises(RenderError, match="max_segments = 1"):
        render(app, "example/notice.txt", "sms", {"recipient_name": "张", "text": "中" * 64})


def test_marketing_sms_ends_with_the_opt_out_hint(outbound_app) -> None:
    app = outbound_app()
    promo = render(app, "example/promo.sms.txt", "sms", {})
    assert promo.marks.marketing and promo.body.endswith("回T退订")
    plain = render(app, "example/ack.sms.txt", "sms", {"case_number": "EX-2026-000001"})
    assert not plain.marks.marketing and not plain.body.endswith("回T退订") and plain.marks.ack


def test_an_undefined_variable_is_an_error(outbound_app) -> None:
    with pytest.raises(RenderError, match="no_such_variable"):
        render(outbound_app(), "example/broken.txt", "email", {})


def test_the_sandbox_refuses_unsafe_attribute_access(outbound_app, tmp_path: Path) -> None:
    folder = write_templates(tmp_path / "evil", {"example/evil.txt": "{{ ''.__class__.__mro__ }}"})
    app = outbound_app(outbound={"templates": str(folder)})
    with pytest.raises(RenderError):
        render(app, "example/evil.txt", "email", {})


def test_site_folder_overrides_a_core_template(outbound_app, tmp_path: Path) -> None:
    folder = write_templates(tmp_path / "site", {"core/outbox_alarm.txt": "Subject: 本站告警\n\n自定义"})
    app = outbound_app(outbound={"templates": str(folder)})
    out = render(app, "core/outbox_alarm.txt", "email", {})
    assert out.subject == "本站告警" and out.body.strip() == "自定义"


def test_channel_variant_is_preferred_and_subject_line_is_split(outbound_app) -> None:
    app = outbound_app()
    email = render(app, "example/ack.txt", "email", {"recipient_name": "张三", "case_number": "EX-1"})
    assert email.name == "example/ack.email.txt" and email.subject == "您的来信已受理"
    assert "张三您好" in email.body


def test_plugin_package_templates_are_found_under_the_plugin_name(make_app, tmp_path: Path) -> None:
    package = tmp_path / "tplplug"
    (package / "templates").mkdir(parents=True)
    (package / "templates" / "hello.txt").write_text("你好{{ recipient_name }}", encoding="utf-8")
    hooks = types.ModuleType("tplplug.hooks")
    hooks.__file__ = str(package / "hooks.py")
    app = make_app(plugins=["example", "tplplug"], extra_plugins={"tplplug": hooks})
    out = render(app, "tplplug/hello.txt", "sms", {"recipient_name": "李四"})
    assert out.body == "【客服中心】你好李四"


def test_check_config_reports_broken_and_failing_templates(outbound_app, tmp_path: Path) -> None:
    folder = write_templates(
        tmp_path / "t",
        {"example/syntax.txt": "{% if %}", "example/ok.sms.txt": "好", "example/broken.txt": "{{ no_such_variable }}"},
    )
    app = outbound_app(outbound={"templates": str(folder)})
    problems = check_templates(app, {"example/broken.txt": {}, "example/ok.sms.txt": {}})
    assert any("example/syntax.txt" in p for p in problems)
    assert any("no_such_variable" in p for p in problems)
    assert not any("ok.sms.txt" in p for p in problems)


def test_one_environment_per_app(outbound_app) -> None:
    app = outbound_app()
    assert template_env(app) is template_env(app)
