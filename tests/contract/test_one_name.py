"""One name per plugin, derived: the heating plugin registered under another name runs under it."""

from __future__ import annotations

from datetime import UTC, datetime

from kefu.intake.message import InboundMessage
from kefu.plugins.heating import hooks as heating_hooks
from kefu.templating import check_templates


def test_a_renamed_plugin_runs_under_its_new_name_only(make_app):
    app = make_app(plugins=["warmth"], extra_plugins={"warmth": heating_hooks})
    assert "warmth.leak" in app.kinds and not any(k.startswith("heating.") for k in app.kinds)
    item = InboundMessage(
        item_id=1,
        channel="sms",
        kind="sms",
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
        sender="+8613800000001",
        subject="",
        text="3号楼暖气跑水了",
    )
    assert app.calls.classify(item, app.context, app.kinds).kind == "warmth.leak"
    samples = app.calls.template_samples(app.context)
    assert "warmth/ack.sms.txt" in samples and not any(name.startswith("heating/") for name in samples)
    assert check_templates(app, samples) == []  # its templates are found under the new name
    assert any(job.startswith("warmth.") for job in app.jobs)
