"""A person's training record as a PDF for an inspector or insurer (pure: the caller passes every fact)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from trainer.certification.pdf import ACCENT, INK, MUTED, UNICODE_FONT, UNICODE_FONT_BOLD, latin1_text


@dataclass
class TrainingRecord:
    name: str
    email: str
    clinic: str
    generated: datetime
    #: One line per quiz attempt: module, attempt number, date, score, result, question-set fingerprint.
    attempts: list[str] = field(default_factory=list)
    #: The logbook summary line, then one line per case.
    logbook_summary: str = ""
    cases: list[str] = field(default_factory=list)
    #: One line per signed DOPS.
    signoffs: list[str] = field(default_factory=list)
    #: One line per certificate, with its verification code and address.
    certificates: list[str] = field(default_factory=list)


class _RecordDocument(FPDF):
    def __init__(self):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)
        self.unicode = os.path.isfile(UNICODE_FONT)
        if self.unicode:
            self.add_font("RecordSans", "", UNICODE_FONT)
            self.add_font("RecordSans", "B", UNICODE_FONT_BOLD if os.path.isfile(UNICODE_FONT_BOLD) else UNICODE_FONT)
        self.family = "RecordSans" if self.unicode else "Helvetica"

    def text_line(self, text: str, *, size: float = 10, bold: bool = False, color=INK, gap: float = 0) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.5, text if self.unicode else latin1_text(text),
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            self.ln(gap)

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Page {self.page_no()}", align="C")


def training_record_pdf(record: TrainingRecord) -> bytes:
    """Render the record: identity, quiz results, logbook, DOPS sign-offs and certificates."""
    pdf = _RecordDocument()
    pdf.set_title(f"Training record: {record.name}")
    pdf.set_creator("Trainer")
    pdf.set_creation_date(record.generated)
    pdf.add_page()
    pdf.text_line("TRAINING RECORD", size=15, bold=True, color=ACCENT, gap=2)
    pdf.text_line(record.name, size=18, bold=True)
    pdf.text_line(f"{record.email} · {record.clinic}", color=MUTED)
    pdf.text_line(f"Generated {record.generated.strftime('%Y-%m-%d %H:%M')} UTC", size=9, color=MUTED, gap=4)
    sections = [
        ("Modules and quiz results", record.attempts, "No quiz attempts."),
        ("Practical logbook", ([record.logbook_summary] if record.logbook_summary else []) + record.cases,
         "No practical logbook."),
        ("Direct observations (DOPS) and sign-offs", record.signoffs, "No observations signed."),
        ("Certificates", record.certificates, "No certificates."),
    ]
    for title, lines, empty in sections:
        pdf.text_line(title, size=12, bold=True, color=ACCENT, gap=1)
        for text in lines or [empty]:
            pdf.text_line(text, size=9.5, gap=0.8)
        pdf.ln(3)
    return bytes(pdf.output())
