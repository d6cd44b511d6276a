"""Every heating template compiles and renders with its sample; SMS carry the case number."""

from __future__ import annotations

from pathlib import Path

from kefu.plugins.heating.samples import template_samples
from kefu.templating import check_templates, render

TEMPLATES = Path(__file__).resolve().parents[3] / "plugins" / "heating" / "templates"


def test_every_template_has_a_sample_and_renders(heating_app) -> None:
    app = heating_app()
    samples = app.host.call_one("kefu_template_samples", "heating", ctx=app.context("heating"))
    on_disk = {f"heating/{p.name}" for p in TEMPLATES.iterdir()}
    assert on_disk == set(samples), "every template needs a sample (and every sample a template)"
    problems = [p for p in check_templates(app, samples) if "heating/" in p]
    assert problems == []


def test_customer_sms_fit_and_carry_the_case_number(heating_app) -> None:
    app = heating_app()
    for name, sample in template_samples().items():
        if name.endswith(".sms.txt") and "case_number" in sample and not name.startswith("heating/visit"):
            text = render(app, name, "sms", sample).body
            assert text.startswith("【"), name
            assert sample["case_number"] in text, name


def test_rectification_letter_names_the_due_date(heating_app) -> None:
    app = heating_app()
    html = render(
        app, "heating/rectification_notice.html", "letter", template_samples()["heating/rectification_notice.html"]
    ).body
    assert "整改通知书" in html and "2026年11月17日" in html and "供暖补充协议" in html
