"""The plugin of ``bench/faults.py``: every mail opens a case whose customer gets one ack mail.

Loaded from this file into a real daemon (``python -m kefu.testing.daemons
--plugin faults=bench/faults_plugin.py``); the ack's template lives in the run's
site template folder. The ack's key names the case, so it is queued once per case.
"""

from __future__ import annotations

from kefu.api import Case, CaseKind, PluginContext, hookimpl

KIND = "faults.mail"
TEMPLATE = "faults/ack.txt"
TEMPLATE_TEXT = "Subject: 已受理 {{ case_number }}\n\n您的来信已受理，编号 {{ case_number }}。\n"


@hookimpl
def kefu_case_kinds(ctx: PluginContext[None]) -> list[CaseKind]:
    """One kind, opened by the channel's ``default_kind``."""
    return [CaseKind(name=KIND, title="来信", prefix="FT")]


@hookimpl
def kefu_case_opened(case: Case, ctx: PluginContext[None]) -> None:
    """Acknowledge the case to whoever wrote."""
    reply_to = (case.data or {}).get("reply_to")
    if reply_to:
        ctx.queue(
            key=f"{case.number}/ack/email",
            channel="email",
            recipient=reply_to,
            template=TEMPLATE,
            context={"case_number": case.number},
            case=case,
        )
