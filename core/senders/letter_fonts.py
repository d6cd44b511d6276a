"""Are the letter fonts really there? Asked of fontconfig before any letter is printed.

WeasyPrint finds fonts through fontconfig (via Pango); when the configured CJK
font is missing, fontconfig quietly substitutes another face (DejaVu, say) and
every Chinese character is drawn as the .notdef box. So kefu asks fontconfig
itself (``fc-match``, from Debian's ``fontconfig``, which Pango needs anyway)
which face each ``[outbound.letters] fonts`` name resolves to and which
characters that face covers, and refuses a letter whose text it cannot draw.

The characters checked are those of the letter templates and of the letter
settings (sender, return address), at ``check-config``, at the daemon's start,
in ``kefu status``//healthz and ``kefu doctor``; and each letter's own text just
before it is rendered, so a rare character in a name is caught too.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kefu.senders.letters import LetterSetupMissing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kefu.app import App
    from kefu.health import Check

# What a Debian or Ubuntu machine needs for the default fonts (Noto Serif/Sans CJK SC).
FONT_FIX = "apt-get install fonts-noto-cjk"
FONTCONFIG_FIX = "apt-get install fontconfig"
# Characters every Chinese letter has: a face that lacks them is not a CJK face.
CJK_PROBE = "通知客服编号地址"
FC_TIMEOUT_SECONDS = 20


class LetterFontsMissing(LetterSetupMissing):
    """The configured letter fonts are not installed or cannot draw the letter's text."""


@dataclass(frozen=True)
class Face:
    """What fontconfig resolved one configured font name to."""

    requested: str
    family: str
    file: str
    ranges: tuple[tuple[int, int], ...] = field(repr=False)

    def covers(self, char: str) -> bool:
        """True when the face has a glyph for ``char``."""
        code = ord(char)
        i = bisect.bisect_right(self.ranges, (code, 0x10FFFF)) - 1
        return i >= 0 and self.ranges[i][0] <= code <= self.ranges[i][1]


@dataclass(frozen=True)
class FontReport:
    """The verdict on the letter fonts: usable faces, and what is wrong otherwise."""

    faces: tuple[Face, ...]
    problems: tuple[str, ...]
    missing_chars: str = ""

    @property
    def ok(self) -> bool:
        """True when letters can be printed with real glyphs."""
        return not self.problems

    def summary(self) -> str:
        """One line for people: the faces found, or the problem and the command that fixes it."""
        if self.ok:
            return "letter fonts: " + ", ".join(f"{f.requested} ({f.file})" for f in self.faces)
        return "; ".join(self.problems)


def parse_charset(text: str) -> tuple[tuple[int, int], ...]:
    """fontconfig's ``%{charset}`` (``20-7e a0-17f 4e00``) as sorted code point ranges."""
    ranges: list[tuple[int, int]] = []
    for part in text.split():
        lo, _, hi = part.partition("-")
        try:
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        except ValueError:
            continue
    return tuple(sorted(ranges))


def _same_family(requested: str, families: str) -> bool:
    wanted = requested.casefold().replace(" ", "")
    return any(wanted == name.casefold().replace(" ", "") for name in families.split(","))


def resolve_face(name: str) -> Face | None:
    """The face fontconfig gives for ``name``, or None when it would substitute another family.

    Raises :class:`LetterFontsMissing` when fontconfig itself is missing.
    """
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise LetterFontsMissing(
            f"fontconfig's fc-match is not installed, so no letter font can be found; install it: {FONTCONFIG_FIX}"
        )
    result = subprocess.run(
        [fc_match, "-f", "%{family}\t%{file}\t%{charset}", name],
        capture_output=True,
        text=True,
        timeout=FC_TIMEOUT_SECONDS,
        check=False,
    )
    family, _, rest = result.stdout.partition("\t")
    file, _, charset = rest.partition("\t")
    if result.returncode != 0 or not family or not _same_family(name, family):
        return None
    return Face(requested=name, family=family.split(",")[0], file=file, ranges=parse_charset(charset))


def _drawable(chars: Iterable[str]) -> set[str]:
    """The characters that need a glyph (not spaces, controls or format marks)."""
    return {ch for ch in chars if not ch.isspace() and unicodedata.category(ch)[0] not in "CZ"}


Resolved = list[tuple[str, Face | None]]


def resolve_all(fonts: Sequence[str]) -> Resolved:
    """Each configured name with its face (None when not installed); raises
    :class:`LetterFontsMissing` when fontconfig cannot be asked."""
    try:
        return [(name, resolve_face(name)) for name in fonts]
    except (OSError, subprocess.SubprocessError) as exc:
        raise LetterFontsMissing(f"fontconfig could not be asked about the letter fonts: {exc}") from exc


def check_fonts(fonts: Sequence[str], text: str = "", resolved: Resolved | None = None) -> FontReport:
    """Check that ``fonts`` (as ``resolved``, else asked now) draw ``text`` and a Chinese probe."""
    try:
        resolved = resolve_all(fonts) if resolved is None else resolved
    except LetterFontsMissing as exc:
        return FontReport((), (f"{exc}",))
    faces = tuple(face for _name, face in resolved if face is not None)
    absent = [name for name, face in resolved if face is None]
    cjk = tuple(f for f in faces if all(f.covers(ch) for ch in CJK_PROBE))
    problems: list[str] = []
    if not fonts:
        problems.append(f'[outbound.letters] fonts is empty; name a CJK font, e.g. "Noto Serif CJK SC" ({FONT_FIX})')
    elif not cjk:
        named = ", ".join(f'"{n}"' for n in fonts)
        why = f"not installed: {', '.join(absent)}" if absent else "none of them draws Chinese"
        problems.append(
            f"no CJK letter font: [outbound.letters] fonts = [{named}] ({why}); "
            f"letters wait until one is installed: {FONT_FIX}"
        )
    missing = "".join(sorted(ch for ch in _drawable(text) if not any(f.covers(ch) for f in faces)))
    if cjk and missing:
        problems.append(
            f"the letter fonts ({', '.join(f.requested for f in faces)}) have no glyph for "
            f"{missing[:40]!r}; add a font that has them to [outbound.letters] fonts"
        )
    return FontReport(faces, tuple(problems), missing)


def letter_template_text(app: App) -> str:
    """Every character the letters of ``app`` print: letter templates and letter settings."""
    from kefu.templating import channel_of, template_env

    env = template_env(app)
    loader = env.loader
    parts: list[str] = []
    letters = app.settings.outbound.letters
    parts += [
        letters.sender_name or app.settings.kefu.site_name,
        letters.return_address,
        letters.phone,
    ]
    if loader is not None:
        for name in env.list_templates():
            if channel_of(name) == "letter":
                parts.append(loader.get_source(env, name)[0])
    return "".join(parts)


def check_app_fonts(app: App) -> FontReport:
    """:func:`check_fonts` for the configured fonts and every character the letter templates use."""
    return check_fonts(app.settings.outbound.letters.fonts, letter_template_text(app))


def require_fonts(app: App, html: str, resolved: Resolved | None = None) -> None:
    """Raise :class:`LetterFontsMissing` unless the letter fonts can draw every character of ``html``.

    ``resolved`` (from :func:`resolve_all`) spares asking fontconfig again for each letter of a run.
    """
    report = check_fonts(app.settings.outbound.letters.fonts, html, resolved)
    if not report.ok:
        raise LetterFontsMissing(report.summary())


# /healthz may be asked every few seconds; fontconfig is asked at most this often per app.
HEALTH_RECHECK = timedelta(minutes=1)
_HEALTH: dict[int, tuple[datetime, FontReport]] = {}


def letter_font_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """The health check ``letter fonts`` (``kefu status``, /healthz): fails while letters would wait."""
    from kefu.health import Check

    cached = _HEALTH.get(id(app))
    if cached is None or not (timedelta(0) <= now - cached[0] < HEALTH_RECHECK):
        if id(app) not in _HEALTH:
            weakref.finalize(app, _HEALTH.pop, id(app), None)
        cached = _HEALTH[id(app)] = (now, check_app_fonts(app))
    report = cached[1]
    return [Check("letter fonts", report.ok, report.summary())]
