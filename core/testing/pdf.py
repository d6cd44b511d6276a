"""Reading a rendered letter back as a person's PDF viewer would, with PDFium (pypdfium2).

Tests look at two things: the text (what a reader copies out of the PDF) and the
font each piece of Chinese text is drawn with, since a PDF can hold the right text
drawn with a fallback font's .notdef boxes (tofu).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextRun:
    """One text object of a page: its text and the base name of its embedded font."""

    text: str
    font: str
    embedded: bool


def _is_cjk(char: str) -> bool:
    return 0x3000 <= ord(char) <= 0x9FFF or 0xF900 <= ord(char) <= 0xFFEF


def pdf_text(pdf: bytes) -> str:
    """The text of every page as it was written, lines ending in newlines, pages in form feeds.

    PDFium adds spaces where glyphs stand apart (``letter-spacing`` in a title) and
    CR LF between lines; the added spaces are dropped, so 工程维修通知单 reads as written.
    """
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    doc = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in doc:
            textpage = page.get_textpage()
            chars = []
            for i in range(textpage.count_chars()):
                char = chr(pdfium_c.FPDFText_GetUnicode(textpage, i))
                if pdfium_c.FPDFText_IsGenerated(textpage, i) == 1 and char not in "\n":
                    continue
                chars.append(char)
            pages.append("".join(chars))
        return "\f".join(pages)
    finally:
        doc.close()


def pdf_text_runs(pdf: bytes) -> list[TextRun]:
    """Every text object of every page with the font it is drawn with."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    doc = pypdfium2.PdfDocument(pdf)
    runs: list[TextRun] = []
    try:
        for page in doc:
            textpage = page.get_textpage()
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], textpage=textpage):
                if not isinstance(obj, pypdfium2.PdfTextObj):
                    continue
                font = obj.get_font()
                runs.append(TextRun(obj.extract(), font.get_base_name(), font.is_embedded))
        return runs
    finally:
        doc.close()


def cjk_fonts(pdf: bytes) -> set[str]:
    """The base names of the fonts that draw Chinese text (``ABCDEF+NotoSerifCJKsc-Regular``)."""
    return {run.font for run in pdf_text_runs(pdf) if any(_is_cjk(ch) for ch in run.text)}


def assert_cjk_drawn(pdf: bytes) -> None:
    """Fail unless there is Chinese text and all of it is drawn with an embedded CJK font."""
    runs = [run for run in pdf_text_runs(pdf) if any(_is_cjk(ch) for ch in run.text)]
    assert runs, "the PDF has no Chinese text at all"
    wrong = [(run.text[:20], run.font) for run in runs if "CJK" not in run.font.upper() or not run.embedded]
    assert not wrong, f"Chinese text drawn without an embedded CJK font (tofu): {wrong[:5]}"
