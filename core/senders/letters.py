"""Letters: rendered Jinja2 HTML turned into PDF by WeasyPrint, with a CJK font.

The font names come from ``[outbound.letters] fonts`` (fontconfig names, e.g.
``Noto Serif CJK SC`` from Debian's fonts-noto-cjk); the letter base template puts
them in its CSS. WeasyPrint is imported only when a letter is rendered, so a site
without letters does not need it.
"""

from __future__ import annotations

from kefu.templating import CORE_TEMPLATES


class LetterError(Exception):
    """The PDF could not be produced (WeasyPrint missing or the HTML unusable)."""


class LetterSetupMissing(LetterError):
    """Something the machine must provide is missing (a library, a font): letters wait for it."""


LIBRARIES_FIX = "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"


def html_to_pdf(html: str) -> bytes:
    """The PDF of ``html`` (relative URLs resolve against the core templates folder)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise LetterSetupMissing("letters need WeasyPrint: pip install weasyprint") from exc
    except OSError as exc:  # cffi could not open Pango: the system libraries are missing
        raise LetterSetupMissing(
            f"WeasyPrint cannot load its libraries ({exc}); letters wait until they are installed: {LIBRARIES_FIX}"
        ) from exc
    try:
        pdf = HTML(string=html, base_url=str(CORE_TEMPLATES)).write_pdf()
    except Exception as exc:
        raise LetterError(f"WeasyPrint could not render the letter: {type(exc).__name__}: {exc}") from exc
    if not pdf:
        raise LetterError("WeasyPrint produced an empty PDF")
    return bytes(pdf)


def letter_filename(title: str, case_number: str | None, row_id: int) -> str:
    """``工程维修通知单-HT-2026-000123.pdf`` (the row id when there is no case)."""
    safe = "".join(ch for ch in title if ch not in '/\\:*?"<>|').strip() or "letter"
    return f"{safe}-{case_number or row_id}.pdf"
