"""Files made from records: the register as CSV and XLSX, certificates as PDFs.

Register records are the dicts of `trainer.services.register.register_record`; both formats
write the same columns in the same order.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from trainer.certification.pdf import certificate_pdf
from trainer.database import begin_write
from trainer.extensions import db
from trainer.models import Certificate, User
from trainer.services.audit import record_event
from trainer.services.practical import signoff_facts, signoff_sentence
from trainer.spreadsheet_cells import defuse_formula, starts_formula

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

DATE_FORMAT = "yyyy-mm-dd"
_NOT_IN_FILE_NAME = re.compile(r"[^a-z0-9]+")


def record_export(actor, kind: str, clinic_id: int | None, rows: int) -> None:
    """Note in the audit trail that personal data left the system: who, what, whose, how many records."""
    actor_id = actor.id
    begin_write(db.session)  # exports are page views: take SQLite's write lock before the append
    record_event(db.session.get(User, actor_id), f"exports.{kind}", f"clinic:{clinic_id or 'all'}", rows=rows)
    db.session.commit()


def _export_columns(records: Sequence[dict], columns: Sequence[str] | None = None) -> list[str]:
    """The export's columns: `columns` when given, else every record key in first-seen order."""
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    return list(seen)


def register_csv(records: list[dict], columns: Sequence[str] | None = None) -> str:
    """The register as RFC 4180 CSV text, starting with a byte-order mark so Excel reads it as UTF-8."""
    columns = _export_columns(records, columns)
    out = io.StringIO()
    out.write("\ufeff")
    writer = spreadsheet_csv_writer(out)
    if columns:
        writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_value(record.get(column)) for column in columns])
    return out.getvalue()


def register_xlsx(records: list[dict], columns: Sequence[str] | None = None) -> bytes:
    """The register as an XLSX workbook: real dates, numbers and booleans, text that never runs as a formula.

    Written in openpyxl's write-only mode, which streams rows instead of keeping a cell object per
    value (the 5,000-staff chain export spent most of its time there); so the column widths and the
    frozen header are set before the first row.
    """
    columns = _export_columns(records, columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Register")
    if columns:
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(records) + 1}"
    for col, name in enumerate(columns, start=1):
        longest = max([len(name)] + [len(_csv_value(record.get(name))) for record in records])
        sheet.column_dimensions[get_column_letter(col)].width = min(max(longest + 2, 10), 50)
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, name, font=bold) for name in columns])
    for record in records:
        sheet.append([_xlsx_value(sheet, record.get(name)) for name in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def current_clinic_certificates(clinic_id: int) -> list[Certificate]:
    """Certificates a clinic's people hold now: not superseded, not revoked; by person, then course."""
    return list(db.session.scalars(
        select(Certificate).join(User, User.id == Certificate.user_id)
        .options(joinedload(Certificate.user).joinedload(User.clinic), joinedload(Certificate.course))
        .where(User.clinic_id == clinic_id, Certificate.superseded_by_id.is_(None), Certificate.revoked_dt.is_(None))
        .order_by(User.name, User.id, Certificate.course_id)
    ).unique())


def certificate_document(cert: Certificate, verify_url: str) -> bytes:
    """The certificate's PDF, issued in the name of the holder's clinic."""
    clinic = cert.user.clinic
    return certificate_pdf(
        holder=cert.user.name, course_title=cert.course.title, issued=cert.issued_dt.date(),
        expires=cert.expires_dt.date(), score_percent=cert.score_percent,
        organisation=f"{clinic.name} · Trainer" if clinic else "Trainer", code=cert.code, verify_url=verify_url,
        practical=signoff_sentence(signoff_facts(cert)),
    )


def certificate_file_name(cert: Certificate) -> str:
    """A file name a person can sort by holder; the code keeps it unique."""
    return f"{file_name_part(cert.user.name)}-{cert.course.slug}-{cert.code}.pdf"


def file_name_part(text: str) -> str:
    """`text` as a lower-case ASCII slug for file names ("Zoë's Clinic" -> "zoe-s-clinic")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_IN_FILE_NAME.sub("-", ascii_text).strip("-")[:60].strip("-") or "unnamed"


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{round(value, 2):g}"
    if isinstance(value, int):
        return str(value)
    return defuse_formula(str(value))


def spreadsheet_csv_writer(out):
    """A CSV writer for exports: every cell quoted, so no separator inside a cell starts a new one."""
    return csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)


def _xlsx_value(sheet: WriteOnlyWorksheet, value: object) -> object:
    """What to append for one value: plain numbers, booleans and ordinary text as they are (cheapest),
    a styled cell for dates and for text a spreadsheet would read as a formula."""
    if isinstance(value, (datetime, date)):
        return _xlsx_cell(sheet, value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # control characters would make openpyxl refuse the file
    return _xlsx_cell(sheet, text) if starts_formula(text) else text


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, datetime):
        cell.number_format = DATE_FORMAT + " hh:mm"
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, str):
        # openpyxl reads a string starting with "=" as a formula; store every text as text, and let
        # Excel keep it text even when someone edits the cell.
        cell.data_type = "s"
        if starts_formula(value):
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell
