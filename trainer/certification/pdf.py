"""Certificate documents: a one-page A4 PDF per certificate, and a ZIP of several.

Pure functions: no Flask, no database. The caller passes every fact that goes on the page.
"""
from __future__ import annotations

import io
import os
import re
import unicodedata
import zipfile
from datetime import date, datetime, time
from typing import cast

import segno
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

#: A Unicode font makes names like "Zoë Ñúñez" or "Łukasz" print as written; without it, core fonts.
UNICODE_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
UNICODE_FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

PAGE_WIDTH, PAGE_HEIGHT = 297, 210  # A4 landscape, mm
TEXT_LEFT, TEXT_WIDTH = 28, 241
ACCENT = (22, 92, 104)
MUTED = (96, 96, 96)
INK = (20, 20, 20)
QR_SIZE = 36  # mm; scans comfortably from a printout
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")

# Core fonts only know latin-1; these common characters have a readable latin-1 spelling.
_LATIN1_SPELLINGS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                                   "\u2014": "-", "\u2026": "...", "\u0141": "L", "\u0142": "l", "\u0110": "D",
                                   "\u0111": "d", "\u0131": "i", "\u20ac": "EUR"})
# Any path separator, drive colon or control character in a ZIP entry name becomes a dash.
_UNSAFE_IN_MEMBER_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def certificate_pdf(*, holder: str, course_title: str, issued: date, expires: date, score_percent: float | None,
                    organisation: str, code: str, verify_url: str, practical: str | None = None) -> bytes:
    """Render one certificate as a one-page A4 landscape PDF whose QR code opens `verify_url`;
    `practical` is the assessor's sign-off line for courses with a practical part."""
    pdf = _CertificateDocument()
    pdf.set_title(f"Certificate: {course_title}")
    pdf.set_subject(f"{holder} - {course_title}")
    pdf.set_author(organisation)
    pdf.set_creator("Trainer")
    # The issue date, not the time of rendering: the same certificate always gives the same file.
    pdf.set_creation_date(datetime.combine(issued, time()))
    pdf.add_page()
    _draw_frame(pdf)

    pdf.set_text_color(*ACCENT)
    pdf.set_xy(TEXT_LEFT, 30)
    pdf.set_char_spacing(1.5)
    pdf.write_centered("CERTIFICATE OF COMPLETION", size=15, bold=True, line_height=8)
    pdf.set_char_spacing(0)

    pdf.set_y(46)
    pdf.set_text_color(*MUTED)
    pdf.write_centered("This certifies that", size=12, line_height=7)
    pdf.set_text_color(*INK)
    pdf.write_fitted(holder, largest=36, smallest=20, bold=True, max_lines=2)
    pdf.ln(3)
    pdf.set_text_color(*MUTED)
    pdf.write_centered("has successfully completed the course", size=12, line_height=7)
    pdf.set_text_color(*ACCENT)
    pdf.write_fitted(course_title, largest=22, smallest=14, bold=True, max_lines=2)
    if practical:
        pdf.ln(1)
        pdf.set_text_color(*INK)
        pdf.write_fitted(practical, largest=11, smallest=8, bold=False, max_lines=2)

    _draw_facts(pdf, [("Issued", _long_date(issued)), ("Valid until", _long_date(expires)),
                      ("Score", _percent(score_percent))], top=124)
    _draw_issuer_and_code(pdf, organisation, code, verify_url, top=150)
    pdf.image(io.BytesIO(verify_qr_png(verify_url)), x=PAGE_WIDTH - 22 - QR_SIZE, y=146, w=QR_SIZE, h=QR_SIZE,
              alt_text=f"QR code that opens {verify_url}")
    pdf.set_xy(PAGE_WIDTH - 22 - QR_SIZE, 146 + QR_SIZE)
    pdf.set_text_color(*MUTED)
    pdf.use_font(size=8)
    pdf.cell(QR_SIZE, 5, pdf.printable("Scan to verify"), align="C")
    return bytes(pdf.output())


def verify_qr_png(url: str) -> bytes:
    """The QR code for `url` as a black-on-white PNG, with the standard quiet zone."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def certificates_zip(documents: list[tuple[str, bytes]]) -> bytes:
    """Pack (file name, content) pairs into a ZIP; names are made safe and unique, timestamps fixed."""
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in documents:
            member = zipfile.ZipInfo(_unique(_safe_member_name(name), used), date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, content)
    return out.getvalue()


class _CertificateDocument(FPDF):
    """An FPDF page with the certificate's fonts and the two ways it writes centred text."""

    def __init__(self):
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(TEXT_LEFT, 20, PAGE_WIDTH - TEXT_LEFT - TEXT_WIDTH)
        self.has_unicode_font = os.path.isfile(UNICODE_FONT)
        if self.has_unicode_font:
            self.add_font("CertificateSans", "", UNICODE_FONT)
            self.add_font("CertificateSans", "B",
                          UNICODE_FONT_BOLD if os.path.isfile(UNICODE_FONT_BOLD) else UNICODE_FONT)
        self.text_family = "CertificateSans" if self.has_unicode_font else "Helvetica"

    def printable(self, text: str) -> str:
        """`text` as this document's fonts can print it (unchanged with the Unicode font)."""
        return text if self.has_unicode_font else latin1_text(text)

    def use_font(self, *, size: float, bold: bool = False) -> None:
        self.set_font(self.text_family, "B" if bold else "", size)

    def write_centered(self, text: str, *, size: float, line_height: float, bold: bool = False) -> None:
        self.use_font(size=size, bold=bold)
        self.set_x(TEXT_LEFT)
        self.multi_cell(TEXT_WIDTH, line_height, self.printable(text), align="C",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def write_fitted(self, text: str, *, largest: float, smallest: float, max_lines: int, bold: bool) -> None:
        """Write `text` centred at the largest size that fits in `max_lines`, shortening it only as a last resort."""
        whole = " ".join(self.printable(text).split())
        text, size, kept = whole, largest, len(whole)
        while True:
            self.use_font(size=size, bold=bold)
            lines = cast(list[str], self.multi_cell(TEXT_WIDTH, size * 0.45, text, align="C", dry_run=True,
                                                    output="LINES"))
            if len(lines) <= 1 or (size <= smallest and len(lines) <= max_lines):
                break
            if size > smallest:
                size = max(smallest, size - 2)
                continue
            kept = max(1, kept - 4)
            text = whole[:kept].rstrip() + "..."
        self.set_x(TEXT_LEFT)
        self.multi_cell(TEXT_WIDTH, size * 0.45, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _draw_frame(pdf: _CertificateDocument) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, PAGE_WIDTH - 20, PAGE_HEIGHT - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, PAGE_WIDTH - 28, PAGE_HEIGHT - 28)


def _draw_facts(pdf: _CertificateDocument, facts: list[tuple[str, str]], *, top: float) -> None:
    """A row of labelled values, evenly spaced across the text width."""
    column = TEXT_WIDTH / len(facts)
    for i, (label, value) in enumerate(facts):
        x = TEXT_LEFT + i * column
        pdf.set_xy(x, top)
        pdf.set_text_color(*MUTED)
        pdf.use_font(size=9)
        pdf.cell(column, 5, pdf.printable(label.upper()), align="C")
        pdf.set_xy(x, top + 6)
        pdf.set_text_color(*INK)
        pdf.use_font(size=14, bold=True)
        pdf.cell(column, 7, pdf.printable(value), align="C")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.2)
    pdf.line(TEXT_LEFT + 20, top - 4, TEXT_LEFT + TEXT_WIDTH - 20, top - 4)


def _draw_issuer_and_code(pdf: _CertificateDocument, organisation: str, code: str, verify_url: str, *,
                          top: float) -> None:
    width = PAGE_WIDTH - 22 - QR_SIZE - 8 - TEXT_LEFT
    pdf.set_xy(TEXT_LEFT, top)
    pdf.set_text_color(*MUTED)
    pdf.use_font(size=9)
    pdf.cell(width, 5, "ISSUED BY", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.use_font(size=12, bold=True)
    pdf.multi_cell(width, 6, pdf.printable(organisation), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_text_color(*MUTED)
    pdf.use_font(size=9)
    pdf.cell(width, 5, "VERIFICATION CODE", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    # Courier: every character of the code is distinct and easy to type from paper.
    pdf.set_font("Courier", "B", 11)
    pdf.multi_cell(width, 5.5, latin1_text(code), wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    pdf.use_font(size=9)  # read from paper: no smaller than 9 pt
    pdf.multi_cell(width, 4.5, pdf.printable(f"Check it at {verify_url}"), wrapmode=WrapMode.CHAR,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def latin1_text(text: str) -> str:
    """`text` spelled with latin-1 characters only: accents kept where latin-1 has them, else dropped."""
    text = unicodedata.normalize("NFC", str(text)).translate(_LATIN1_SPELLINGS)
    kept = []
    for char in text:
        if ord(char) < 256:
            kept.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256 and not unicodedata.combining(c))
        kept.append(base or "?")
    return "".join(kept)


def _long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 1):g}%"


def _safe_member_name(name: str) -> str:
    """A flat file name: no directories, no '..', no absolute paths, ASCII only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    flat = _UNSAFE_IN_MEMBER_NAME.sub("-", ascii_name).strip(".-")
    return flat or "document"


def _unique(name: str, used: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{stem}-{n}.{extension}" if dot else f"{stem}-{n}"
        n += 1
    used.add(candidate.lower())
    return candidate
