"""Letters are never printed in boxes: without a CJK font they wait with the fix, then print.

"Without the font" on a machine that has it: fontconfig is pointed at an empty
configuration (``FONTCONFIG_FILE``), which every ``fc-match`` kefu runs inherits.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.senders.letter_fonts import FONT_FIX, check_fonts, parse_charset
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config
from kefu.testing.outbox import add_customer, letters, open_example_case, outbox_rows, queue
from kefu.testing.pdf import assert_cjk_drawn, pdf_text

NOTICE = dict(template="example/repair_notice.html", context={"due": "2026-11-10", "work": "卫生间防水维修"})


@pytest.fixture
def no_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fontconfig with no font directory at all: the machine without fonts-noto-cjk."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?>\n<fontconfig><cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    return conf


def invoke(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def test_letter_waits_with_the_fix_without_a_cjk_font_then_prints_with_cjk_glyphs(
    outbound_app, run_pass, clock, no_fonts, monkeypatch
) -> None:
    app = outbound_app()
    number = open_example_case(app, add_customer(app, name="华安建设工程有限公司"))
    queue(
        app,
        number,
        key="l",
        channel="letter",
        recipient="华安建设工程有限公司",
        recipient_name="华安建设工程有限公司",
        address="上海市浦东新区示例大道88号",
        **NOTICE,
    )
    run_pass(app)
    (row,) = outbox_rows(app)
    assert row.state == "queued" and not letters(app)
    assert "Noto Serif CJK SC" in row.last_error and FONT_FIX in row.last_error
    assert row.attempts == 0 and row.data["held"] == "letter fonts"  # waiting never makes it dead
    for _ in range(3):
        clock.advance(timedelta(minutes=11))
        run_pass(app)
    assert outbox_rows(app)[0].state == "queued" and not letters(app)

    monkeypatch.delenv("FONTCONFIG_FILE")  # the font is installed
    clock.advance(timedelta(minutes=11))
    run_pass(app)
    assert outbox_rows(app)[0].state == "sent"
    (letter,) = letters(app)
    assert "华安建设工程有限公司" in pdf_text(letter.pdf)
    assert_cjk_drawn(letter.pdf)


def test_check_config_and_status_name_the_missing_font_and_the_fix(outbound_app, no_fonts) -> None:
    app = outbound_app()
    code, out = invoke(app, "status", "--json")
    report = json.loads(out)
    (fonts,) = [c for c in report["checks"] if c["name"] == "letter fonts"]
    assert code == 1 and not fonts["ok"] and FONT_FIX in fonts["detail"]


def test_check_config_fails_naming_the_font_and_the_fix(tmp_path, sqlite_url, no_fonts) -> None:
    config = write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["example"]))
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: no CJK letter font" in result.output and "Noto Serif CJK SC" in result.output
    assert FONT_FIX in result.output


def test_check_config_lists_the_fonts_found(tmp_path, sqlite_url) -> None:
    config = write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["example"]))
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "letter fonts: Noto Serif CJK SC (/" in result.output
    assert "  warnings:" not in result.output  # each warning is its own "warning: …" line


def test_a_character_no_letter_font_draws_is_named() -> None:
    report = check_fonts(["Noto Serif CJK SC"], "华安建设𠀀")
    assert not report.ok and report.missing_chars == "𠀀"
    assert "𠀀" in report.summary()


def test_an_unknown_font_is_not_taken_for_the_fallback_face() -> None:
    report = check_fonts(["Fangzheng Imaginary Song"], "通知")
    assert not report.ok and "not installed: Fangzheng Imaginary Song" in report.summary()


def test_the_installed_cjk_font_passes() -> None:
    report = check_fonts(["Noto Serif CJK SC", "Noto Sans CJK SC"], "工程维修通知单 华安建设 ¥1,234.50")
    assert report.ok, report.summary()


def test_fontconfig_charset_ranges() -> None:
    ranges = parse_charset("20-7e a0-17f 4e00-9fff 3000")
    assert ranges == ((0x20, 0x7E), (0xA0, 0x17F), (0x3000, 0x3000), (0x4E00, 0x9FFF))


def test_a_letter_waits_when_weasyprint_cannot_load_its_libraries(outbound_app, run_pass, monkeypatch) -> None:
    from kefu.outbound import dispatch
    from kefu.senders.letters import LIBRARIES_FIX, LetterSetupMissing

    def no_pango(html: str) -> bytes:
        raise LetterSetupMissing(f"WeasyPrint cannot load its libraries (no libpango); {LIBRARIES_FIX}")

    monkeypatch.setattr(dispatch, "html_to_pdf", no_pango)  # as on a machine without Pango
    app = outbound_app()
    number = open_example_case(app)
    queue(
        app,
        number,
        key="l",
        channel="letter",
        recipient="某租户",
        recipient_name="某租户",
        **NOTICE,
    )
    for _ in range(app.settings.outbound.retry.max_attempts + 2):
        run_pass(app)
        app.clock.advance(timedelta(minutes=11))
    (row,) = outbox_rows(app)
    assert row.state == "queued" and LIBRARIES_FIX in row.last_error  # waiting, never dead
