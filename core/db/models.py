"""Every core table, importable from one place (``from kefu.db.models import Case``)."""

from kefu.db.base import Base
from kefu.db.cases import Case, CaseEvent, CaseSequence, Deadline
from kefu.db.console import ConsoleAccount, ConsoleSession, SavedView
from kefu.db.inbound import Attachment, ChannelState, InboundItem, InboundRaw
from kefu.db.jobs import Heartbeat, JobRun
from kefu.db.outbox import Letter, OutboxMessage
from kefu.db.people import Contact, Customer, RotaShift, StaffMember

__all__ = [
    "Attachment",
    "Base",
    "Case",
    "CaseEvent",
    "CaseSequence",
    "ChannelState",
    "ConsoleAccount",
    "ConsoleSession",
    "Contact",
    "Customer",
    "Deadline",
    "Heartbeat",
    "InboundItem",
    "InboundRaw",
    "JobRun",
    "Letter",
    "OutboxMessage",
    "RotaShift",
    "SavedView",
    "StaffMember",
]
