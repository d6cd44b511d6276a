"""``[channels]``: the inboxes kefu reads (Maildir, IMAP, Twilio SMS, hotline).

Each mail inbox has a name (``[channels.imap.repairs]``), its own default case
kind for items nobody claims, and a silence limit: an inbox that has not been
read successfully for longer than ``silence_alarm`` fails ``/healthz`` and
``kefu status``, and the staff in ``alarm_staff`` (the channel's, else
``[channels] alarm_staff``) get a message, so a dead mailbox is noticed before
the customers do.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kefu.durations import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MaildirChannel(_Strict):
    """A local Maildir folder read like a mailbox (the embedded default).

    New mail is read from ``new/`` (and unflagged mail from ``cur/``); once stored
    it is moved to ``cur/`` with the Seen flag.
    """

    path: Path
    create: bool = Field(
        default=True,
        description="create new/, cur/ and tmp/ of a Maildir never read before (the embedded default)",
    )
    default_kind: str | None = None
    plugins: list[str] | None = Field(
        default=None,
        description="the plugins that classify this channel's items, a subset of "
        "[plugins] enabled (default: all enabled plugins)",
    )
    poll_interval: Duration = timedelta(seconds=30)
    watch: bool = Field(
        default=True,
        description="watch new/ (inotify where the system has it) so a dropped mail is read at once; "
        "poll_interval still applies",
    )
    silence_alarm: Duration = timedelta(hours=2)
    alarm_staff: list[str] | None = Field(
        default=None,
        description="roles, people or rota:NAME told when this channel falls silent (default: [channels] alarm_staff)",
    )
    batch_size: int = Field(default=500, ge=1, le=10_000)


class ImapChannel(_Strict):
    """One IMAP mailbox (a folder of an account on a server).

    ``security``: ``tls`` (port 993), ``starttls`` (port 143, upgraded) or ``plain``
    (loopback test servers only). ``mark``: ``seen_keyword`` sets ``\\Seen`` plus
    ``keyword`` on each stored message; ``move`` moves it to ``processed_folder``.
    """

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "plain"] = "tls"
    user: str
    password_secret: str
    mailbox: str = "INBOX"
    default_kind: str | None = None
    plugins: list[str] | None = Field(
        default=None,
        description="the plugins that classify this channel's items, a subset of "
        "[plugins] enabled (default: all enabled plugins)",
    )
    mark: Literal["seen_keyword", "move"] = "seen_keyword"
    keyword: str = Field(default="KefuStored", pattern=r"^[A-Za-z0-9_$.-]+$")
    processed_folder: str | None = None
    idle: bool = True
    poll_interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=30)
    idle_renew: Duration = timedelta(minutes=10)
    reconnect_max: Duration = timedelta(minutes=5)
    silence_alarm: Duration = timedelta(hours=2)
    alarm_staff: list[str] | None = Field(
        default=None,
        description="roles, people or rota:NAME told when this channel falls silent (default: [channels] alarm_staff)",
    )
    batch_size: int = Field(default=200, ge=1, le=5_000)
    verify_certificate: bool = True

    @model_validator(mode="after")
    def _folder_for_move(self) -> ImapChannel:
        if self.mark == "move" and not self.processed_folder:
            raise ValueError("mark = 'move' needs processed_folder (e.g. 'Processed')")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        return self.port or (993 if self.security == "tls" else 143)


DEFAULT_OPT_OUT = ["退订", "TD", "T", "N", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
DEFAULT_OPT_IN = ["START", "UNSTOP", "YES"]


class SmsChannel(_Strict):
    """``[channels.sms]``: Twilio's incoming-message webhook, or polling the Twilio API.

    ``mode = "webhook"`` serves ``path`` (validate with the ``[twilio]`` auth token);
    ``mode = "poll"`` lists recent inbound messages through the API (sites
    without a public URL).
    """

    enabled: bool = False
    mode: Literal["webhook", "poll"] = "webhook"
    path: str = Field(default="/channels/sms/twilio", pattern=r"^/")
    default_kind: str | None = None
    plugins: list[str] | None = Field(
        default=None,
        description="the plugins that classify this channel's items, a subset of "
        "[plugins] enabled (default: all enabled plugins)",
    )
    numbers: list[str] = Field(default_factory=list, description="our numbers polled in poll mode")
    poll_interval: Duration = timedelta(seconds=60)
    silence_alarm: Duration | None = None
    alarm_staff: list[str] | None = Field(
        default=None,
        description="roles, people or rota:NAME told when this channel falls silent (default: [channels] alarm_staff)",
    )
    thread_open_case: bool = True
    opt_out_words: list[str] = Field(default_factory=lambda: list(DEFAULT_OPT_OUT))
    opt_in_words: list[str] = Field(default_factory=lambda: list(DEFAULT_OPT_IN))


class HotlineColumns(_Strict):
    """Which column of the city hotline's CSV export holds each field (header names)."""

    call_id: str | None = "工单号"
    caller: str = "来电号码"
    at: str = "来电时间"
    category: str = "类别"
    address: str | None = "地址"
    account: str | None = "户号"
    text: str = "内容"
    operator: str | None = "话务员"


class HotlineChannel(_Strict):
    """``[channels.hotline]``: calls logged by operators, call-centre software or CSV export."""

    enabled: bool = False
    path: str = Field(default="/channels/hotline/calls", pattern=r"^/")
    token_secret: str | None = None
    default_kind: str | None = None
    plugins: list[str] | None = Field(
        default=None,
        description="the plugins that classify this channel's items, a subset of "
        "[plugins] enabled (default: all enabled plugins)",
    )
    columns: HotlineColumns = Field(default_factory=HotlineColumns)
    time_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
    )


class MailLimits(_Strict):
    """``[channels.limits]``: how big and how deep a mail may be before it is quarantined unread.

    Checked before the mail is parsed, so a crafted mail costs a scan, not minutes of CPU.
    """

    max_message_bytes: int = Field(default=64 << 20, ge=1024, description="a whole mail")
    max_header_bytes: int = Field(default=2 << 20, ge=1024, description="the top header block")
    max_headers: int = Field(default=2000, ge=10, description="header fields in the top header block")
    max_parts: int = Field(default=500, ge=2, description="MIME parts in all")
    max_part_bytes: int = Field(default=50 << 20, ge=1024, description="one part, decoded")
    max_depth: int = Field(default=20, ge=1, description="levels of nested multipart/message parts")


class ChannelsSection(_Strict):
    """Every configured channel, by name."""

    maildir: dict[str, MaildirChannel] = Field(default_factory=dict)
    imap: dict[str, ImapChannel] = Field(default_factory=dict)
    sms: SmsChannel = Field(default_factory=SmsChannel)
    hotline: HotlineChannel = Field(default_factory=HotlineChannel)
    process_batch: int = Field(default=500, ge=1, le=10_000)
    alarm_staff: list[str] = Field(
        default_factory=list,
        description="roles, people or rota:NAME told (once per silence) when a "
        "channel is not read for longer than its silence_alarm",
    )
    limits: MailLimits = Field(default_factory=MailLimits)

    def named(self) -> list[tuple[str, MaildirChannel | ImapChannel | SmsChannel | HotlineChannel]]:
        """Every channel with its full name (``imap:repairs``, ``maildir:demo``, ``sms``, ``hotline``)."""
        return [
            *((f"maildir:{name}", cfg) for name, cfg in self.maildir.items()),
            *((f"imap:{name}", cfg) for name, cfg in self.imap.items()),
            ("sms", self.sms),
            ("hotline", self.hotline),
        ]

    @model_validator(mode="after")
    def _unique_names(self) -> ChannelsSection:
        both = set(self.maildir) & set(self.imap)
        if both:
            raise ValueError(f"channel names must be unique across maildir and imap: {sorted(both)}")
        return self
