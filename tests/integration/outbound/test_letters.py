"""Letters: Jinja2 HTML to PDF with a CJK font, archived with the case, emailed, posted by EMS."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.testing.outbox import (
    add_customer,
    case_events,
    letters,
    open_example_case,
    outbox_rows,
    queue,
)
from kefu.testing.pdf import assert_cjk_drawn, pdf_text

NOTICE = dict(template="example/repair_notice.html", context={"due": "2026-11-10", "work": "卫生间防水维修"})


def invoke(app, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_letter_pdf_holds_the_chinese_recipient_and_case_number(outbound_app, run_pass, tmp_path) -> None:
    app = outbound_app(
        outbound={"letters": {"sender_name": "示例物业客服管理部", "return_address": "北京市朝阳区示例路1号"}}
    )
    cid = add_customer(app, name="华安建设工程有限公司")
    number = open_example_case(app, cid)
    queue(
        app,
        number,
        cid,
        key="l",
        channel="letter",
        recipient="华安建设工程有限公司",
        recipient_name="华安建设工程有限公司",
        address="上海市浦东新区示例大道88号",
        **NOTICE,
    )
    run_pass(app)
    row = outbox_rows(app)[0]
    (letter,) = letters(app)
    assert row.state == "sent" and row.provider_id == f"letter:{row.id}"
    text = pdf_text(letter.pdf)
    assert_cjk_drawn(letter.pdf)
    assert "华安建设工程有限公司" in text and number in text
    assert "工程维修通知单" in text and "2026年11月10日" in text
    assert letter.to_post and letter.title == "工程维修通知单"
    [archived] = [e for e in case_events(app, number) if e.type == "letter_archived"]
    assert archived.reason.startswith("《工程维修通知单》致 ")
    assert archived.reason.endswith("：待打印邮寄（kefu letters pending）")


def test_letters_pending_then_posted_with_ems_number(outbound_app, run_pass) -> None:
    app = outbound_app()
    number = open_example_case(app)
    queue(app, number, key="l", channel="letter", recipient="某租户", recipient_name="某租户", **NOTICE)
    run_pass(app)
    (pending,) = json.loads(invoke(app, "letters", "pending", "--json"))
    assert pending["case"] == number and pending["title"] == "工程维修通知单"
    out = invoke(app, "letters", "posted", str(pending["id"]), "--ems", "ea123456789cn", "--by", "k")
    assert "EA123456789CN" in out
    assert json.loads(invoke(app, "letters", "pending", "--json")) == []
    posted = [e for e in case_events(app, number) if e.type == "letter_posted"]
    assert posted and posted[0].actor == "k" and posted[0].data["ems"] == "EA123456789CN"


def test_letter_is_emailed_as_pdf_attachment(outbound_app, run_pass, smtp_server, tmp_path) -> None:
    app = outbound_app(outbound=smtp_server.config())
    number = open_example_case(app)
    queue(
        app,
        number,
        key="e",
        channel="email",
        recipient="contractor@example.com",
        recipient_name="华安建设",
        template="example/notice.txt",
        letter="example/repair_notice.html",
        context={"text": "请查收附件中的工程维修通知单。", "due": "2026-11-10", "work": "外墙渗漏维修"},
    )
    run_pass(app)
    mail = smtp_server.messages[0].parsed()
    parts = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(parts[0].get_filename()))) == f"工程维修通知单-{number}.pdf"
    assert "华安建设" in pdf_text(parts[0].get_payload(decode=True))
    assert_cjk_drawn(parts[0].get_payload(decode=True))
    (archived,) = letters(app)
    assert not archived.to_post  # emailed only: not in the list of letters to post
