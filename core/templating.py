"""The one template environment: sandboxed Jinja2, undefined variables are errors.

Where templates come from, first match wins:

1. the site folder ``[outbound] templates`` (a department's override of any template),
2. each enabled plugin's ``<plugin package>/templates/``, under the plugin's name
   (``plugins/heating/templates/leak_ack.txt`` is ``heating/leak_ack.txt``; a
   nested ``templates/heating/leak_ack.txt`` works too),
3. the core's ``kefu/templates/`` (``core/escalation.txt``, ``core/letter_base.html``).

A name is the template's path (``heating/leak_ack.txt``). For a channel, a
variant ``<stem>.<channel><ext>`` (``heating/leak_ack.sms.txt``) is preferred
when it exists. Email templates may start with a ``Subject: …`` line. A template
marks itself in a comment anywhere in it: ``{# kefu: marketing #}`` (a marketing
text: ends with the opt-out hint, never sent to opted-out numbers) or
``{# kefu: ack #}`` (an automatic acknowledgement: never sent for a case intake
marked ``no_ack``). Unmarked templates are notifications.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)
from jinja2.sandbox import SandboxedEnvironment

from kefu.secrets import mask

if TYPE_CHECKING:
    from kefu.app import App

CORE_TEMPLATES = Path(__file__).parent / "templates"
CONSOLE_PAGES = "console/"
_MARKS = re.compile(r"\{#-?\s*kefu:([^#]*)#\}")
_SUBJECT = re.compile(r"\A\s*Subject:[ \t]*(.*?)[ \t]*\r?\n(?:[ \t]*\r?\n)?", re.IGNORECASE)
_GSM_SAFE = re.compile(r"\A[\x0a\x0d\x20-\x7e]*\Z")  # pure ASCII is sent as GSM-7


class RenderError(Exception):
    """A template could not be found, compiled or rendered, or its result breaks a rule."""


# ----------------------------------------------------------------------------- filters


def _as_date(value: date | datetime | str, tz: Any) -> date | datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return value


def cn_date(value: date | datetime | str, tz: Any = None) -> str:
    """2026-11-02 → ``2026年11月2日``."""
    d = _as_date(value, tz)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(value: datetime | str, tz: Any = None) -> str:
    """An instant in the configured zone → ``2026年11月2日 09:00``."""
    d = _as_date(value, tz)
    if not isinstance(d, datetime):
        return cn_date(d)
    return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M}"


def money(value: float | int | str | Decimal, symbol: str = "¥") -> str:
    """1234.5 → ``¥1,234.50`` (half-up to the fen; negative amounts keep their sign)."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def mask_phone(value: str | None) -> str:
    """13812345678 → ``138****5678`` (what a letter or a staff list may show)."""
    return mask(value or "")


# ----------------------------------------------------------------------------- SMS length


def sms_segments(text: str) -> int:
    """How many SMS parts ``text`` is sent as: GSM-7 160/153 for pure ASCII, else UCS-2 70/67."""
    if _GSM_SAFE.match(text):
        single, part = 160, 153
        length = len(text)
    else:
        single, part = 70, 67
        length = len(text.encode("utf-16-le")) // 2  # characters beyond the BMP take two units
    if length <= single:
        return 1
    return -(-length // part)


# ----------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class TemplateMarks:
    """What a template says about itself in its ``{# kefu: … #}`` comment."""

    marketing: bool = False
    ack: bool = False


@dataclass(frozen=True)
class Rendered:
    """A rendered message: subject for email, body text (HTML for letters), and its marks."""

    name: str
    subject: str | None
    body: str
    marks: TemplateMarks
    segments: int | None = None


_ENVS: dict[int, SandboxedEnvironment] = {}


def plugin_template_dirs(app: App) -> dict[str, Path]:
    """The ``templates/`` folder of each enabled plugin's package that has one."""
    found: dict[str, Path] = {}
    for name in app.host.enabled:
        module = app.host.pm.get_plugin(name)
        file = getattr(module, "__file__", None)
        if file:
            folder = Path(file).parent / "templates"
            if folder.is_dir():
                found[name] = folder
    return found


def _loader(app: App) -> BaseLoader:
    loaders: list[BaseLoader] = []
    site = app.settings.outbound.templates
    if site is not None:
        loaders.append(FileSystemLoader(str(site)))
    mapping: dict[str, BaseLoader] = {
        name: ChoiceLoader([FileSystemLoader(str(folder / name)), FileSystemLoader(str(folder))])
        for name, folder in plugin_template_dirs(app).items()
    }
    if mapping:
        loaders.append(PrefixLoader(mapping))
    loaders.append(FileSystemLoader(str(CORE_TEMPLATES)))
    return ChoiceLoader(loaders)


def template_env(app: App) -> SandboxedEnvironment:
    """The application's one environment (built once per App; a reload builds a new App)."""
    env = _ENVS.get(id(app))
    if env is not None:
        return env
    tz = app.settings.tz
    env = SandboxedEnvironment(
        loader=_loader(app),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith((".html", ".htm"))),
        keep_trailing_newline=False,
        auto_reload=False,  # templates change with a reload, which builds a new App
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cn_date=lambda v: cn_date(v, tz),
        cn_datetime=lambda v: cn_datetime(v, tz),
        money=money,
        mask_phone=mask_phone,
    )
    env.globals["site_name"] = app.settings.kefu.site_name
    _ENVS[id(app)] = env
    weakref.finalize(app, _forget, id(app), id(env))
    return env


_RESOLVED: dict[tuple[int, str, str | None], str] = {}
_MARKED: dict[tuple[int, str], TemplateMarks] = {}


def _forget(app_id: int, env_id: int) -> None:
    _ENVS.pop(app_id, None)
    for cache in (_RESOLVED, _MARKED):
        for key in [k for k in cache if k[0] == env_id]:
            cache.pop(key, None)  # type: ignore[arg-type]


def resolve(app: App, name: str, channel: str | None = None) -> str:
    """The template that renders ``name`` on ``channel`` (the channel variant if it exists)."""
    cache_key = (id(template_env(app)), name, channel)
    found = _RESOLVED.get(cache_key)
    if found is None:
        found = _RESOLVED[cache_key] = _resolve(app, name, channel)
    return found


def _resolve(app: App, name: str, channel: str | None) -> str:
    env = template_env(app)
    candidates = [name]
    if channel:
        stem, ext = posixpath.splitext(name)
        candidates.insert(0, f"{stem}.{channel}{ext}")
    for candidate in candidates:
        try:
            env.get_template(candidate)
            return candidate
        except TemplateNotFound:
            continue
        except TemplateError as exc:
            raise RenderError(f"template {candidate!r} does not compile: {exc}") from exc
    raise RenderError(
        f"template {name!r} not found (looked for {', '.join(candidates)} in the site folder, "
        "the plugins' templates/ folders and the core templates)"
    )


def template_marks(app: App, name: str) -> TemplateMarks:
    """The ``{# kefu: marketing ack #}`` marks of template ``name``."""
    env = template_env(app)
    cached = _MARKED.get((id(env), name))
    if cached is not None:
        return cached
    assert env.loader is not None
    source, _file, _up = env.loader.get_source(env, name)
    words: set[str] = set()
    for found in _MARKS.finditer(source):
        words.update(found.group(1).replace(",", " ").split())
    marks = _MARKED[(id(env), name)] = TemplateMarks(marketing="marketing" in words, ack="ack" in words)
    return marks


def render(app: App, name: str, channel: str, context: dict[str, Any], *, marketing: bool = False) -> Rendered:
    """Render ``name`` for ``channel`` (email, sms, letter) with ``context``; RenderError if it fails.

    SMS get the signature in front and, for marketing texts, the opt-out hint at
    the end; an SMS longer than ``[outbound.sms] max_segments`` is refused.
    """
    actual = resolve(app, name, channel)
    marks = template_marks(app, actual)
    if marketing and not marks.marketing:
        marks = TemplateMarks(marketing=True, ack=marks.ack)
    try:
        text = template_env(app).get_template(actual).render(context)
    except TemplateError as exc:
        raise RenderError(f"template {actual!r}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a filter given a bad value (money('abc')) fails only this row
        raise RenderError(f"template {actual!r}: {type(exc).__name__}: {exc}") from exc
    subject = None
    found = _SUBJECT.match(text) if channel != "letter" else None
    if found:  # a shared email/SMS template: the SMS leaves the subject out
        subject, text = found.group(1), text[found.end() :]
    if channel == "sms":
        return _finish_sms(app, actual, text, marks)
    return Rendered(name=actual, subject=subject, body=text.strip() + ("\n" if channel == "email" else ""), marks=marks)


def _finish_sms(app: App, name: str, text: str, marks: TemplateMarks) -> Rendered:
    cfg = app.settings.outbound.sms
    body = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    if not body.startswith(cfg.signature):
        body = cfg.signature + body
    if marks.marketing and cfg.opt_out_hint and not body.endswith(cfg.opt_out_hint):
        body = body + cfg.opt_out_hint
    segments = sms_segments(body)
    if segments > cfg.max_segments:
        raise RenderError(
            f"template {name!r}: the SMS is {len(body)} characters, {segments} parts including the "
            f"signature, over [outbound.sms] max_segments = {cfg.max_segments}; shorten the text"
        )
    return Rendered(name=name, subject=None, body=body, marks=marks, segments=segments)


def channel_of(name: str) -> str | None:
    """The channel a template is written for, from its name (``*.sms.txt``, ``*.html`` …).

    The staff console's pages (``console/…``) are for no channel: they are web pages, not letters.
    """
    if name.startswith(CONSOLE_PAGES):
        return None
    base = posixpath.basename(name)
    for channel in ("sms", "email", "letter"):
        if f".{channel}." in base:
            return channel
    if base.endswith((".html", ".htm")):
        return "letter"
    return None


def check_templates(app: App, samples: dict[str, dict[str, Any]]) -> list[str]:
    """Compile every template and render each one that has a sample; the problems found.

    Called by ``kefu check-config``; ``samples`` come from the plugins'
    ``kefu_template_samples`` (and the core's own).
    """
    env = template_env(app)
    problems: list[str] = []
    names = env.list_templates()
    for name in names:
        try:
            env.get_template(name)
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", None)
            where = f" line {lineno}" if lineno else ""
            problems.append(f"template {name}{where}: {exc}")
    for name, sample in samples.items():
        channels = [channel_of(name)] if channel_of(name) else ["email", "sms"]
        for channel in channels:
            if channel == "sms" and posixpath.splitext(name)[1] == ".html":
                continue
            try:
                render(app, name, channel or "email", sample)
            except RenderError as exc:
                problems.append(f"{exc} (with the sample from kefu_template_samples)")
    return problems


def template_samples(app: App) -> dict[str, dict[str, Any]]:
    """Sample contexts from every plugin's ``kefu_template_samples``, merged."""
    return app.calls.template_samples(app.context)


def outbound_summary(app: App) -> tuple[dict[str, str], list[str]]:
    """``kefu check-config`` lines for senders and templates, and the template problems found."""
    out = app.settings.outbound
    email = "spool" if out.email_sender == "spool" else f"smtp {out.smtp.host}:{out.smtp.port} ({out.smtp.security})"
    sms = (
        "spool"
        if out.sms_sender == "spool"
        else "twilio "
        + (app.settings.twilio.messaging_service_sid or app.settings.twilio.from_number or "(no sender!)")
    )
    try:
        names = template_env(app).list_templates()
        problems = check_templates(app, template_samples(app))
    except Exception as exc:  # an unreadable site folder is a problem to report, not a crash
        names, problems = [], [f"templates: {type(exc).__name__}: {exc}"]
    lines = {
        "senders": f"email: {email}; sms: {sms}; letters: PDF ({', '.join(out.letters.fonts)})",
        "templates": f"{len(names)} compiled" + (f", site folder {out.templates}" if out.templates else ""),
        "quiet hours": f"{out.sms.quiet_start:%H:%M}–{out.sms.quiet_end:%H:%M} (customer SMS, not urgent)",
    }
    return lines, problems
