"""Register exports: the same columns in CSV and XLSX, typed values, and no formula injection."""
import csv
import io
import zipfile
from datetime import date, datetime

import openpyxl

from trainer.services.exports import file_name_part, register_csv, register_xlsx


def record(**overrides) -> dict:
    """A row shaped like trainer.services.register.register_record's."""
    return {"person_id": 1, "name": "Pat Learner", "email": "pat@example.org", "active": True, "clinic": "Harbour",
            "course": "tiny-course", "status": "certified", "overdue": False, "due_date": date(2026, 6, 30),
            "certificate_code": "AbC-_123", "issued": date(2026, 1, 5), "expires": date(2027, 1, 5),
            "days_to_expiry": 300, "basics_best_score": 87.5, "care_best_score": None, **overrides}


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_csv_starts_with_a_bom_and_has_the_record_columns_in_order():
    text = register_csv([record()])
    assert text.startswith("\ufeff") and "\r\n" in text
    header, row = read_csv(text)
    assert header == list(record())
    assert row == ["1", "Pat Learner", "pat@example.org", "true", "Harbour", "tiny-course", "certified", "false",
                   "2026-06-30", "AbC-_123", "2026-01-05", "2027-01-05", "300", "87.5", ""]


def test_csv_quotes_commas_quotes_and_line_breaks():
    tricky = 'O\'Brien, "Jo"\nsecond line'
    _, row = read_csv(register_csv([record(name=tricky, clinic="Zoë's Ñ clinic")]))
    assert row[1] == tricky and row[4] == "Zoë's Ñ clinic"


def test_csv_text_that_a_spreadsheet_would_run_gets_an_apostrophe():
    rows = read_csv(register_csv([record(name=name) for name in
                                  ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTab", "Ann = Bob")]))[1:]
    assert [r[1] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tTab", "Ann = Bob"]


def test_negative_numbers_stay_numbers_in_csv():
    _, row = read_csv(register_csv([record(days_to_expiry=-12, status="expired")]))
    assert row[12] == "-12"


def test_an_empty_register_still_has_its_header_when_columns_are_given():
    assert read_csv(register_csv([], columns=list(record()))) == [list(record())]
    sheet = read_xlsx(register_xlsx([], columns=list(record())))
    assert [c.value for c in sheet[1]] == list(record()) and sheet.max_row == 1


def test_xlsx_has_the_same_columns_as_csv_with_real_types():
    sheet = read_xlsx(register_xlsx([record(), record(person_id=2, name="Sam", active=False, overdue=True,
                                                       due_date=None, issued=None, expires=None,
                                                       days_to_expiry=None, basics_best_score=None)]))
    header = [c.value for c in sheet[1]]
    assert header == read_csv(register_csv([record()]))[0]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert isinstance(first["issued"], (date, datetime)) and first["issued"].timetuple()[:3] == (2026, 1, 5)
    assert isinstance(first["expires"], (date, datetime)) and first["due_date"].timetuple()[:3] == (2026, 6, 30)
    assert first["active"] is True and first["overdue"] is False
    assert first["person_id"] == 1 and first["days_to_expiry"] == 300 and first["basics_best_score"] == 87.5
    assert first["care_best_score"] is None
    issued_cell = sheet.cell(row=2, column=header.index("issued") + 1)
    assert issued_cell.is_date and "yy" in issued_cell.number_format
    second = dict(zip(header, [c.value for c in sheet[3]], strict=True))
    assert second["active"] is False and second["overdue"] is True and second["issued"] is None


def test_xlsx_never_stores_names_as_formulas():
    data = register_xlsx([record(name="=1+2"), record(name="=HYPERLINK(\"http://evil\",\"x\")"), record(name="+1")])
    sheet = read_xlsx(data)
    cells = [sheet.cell(row=r, column=2) for r in (2, 3, 4)]
    assert [c.value for c in cells] == ["=1+2", "=HYPERLINK(\"http://evil\",\"x\")", "+1"]
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells)
    assert b"<f>" not in _sheet_xml(data)


def test_xlsx_drops_control_characters_instead_of_failing():
    sheet = read_xlsx(register_xlsx([record(name="Pat\x07 Learner")]))
    assert sheet.cell(row=2, column=2).value == "Pat Learner"


def test_xlsx_header_is_bold_and_frozen_and_columns_are_wide_enough():
    sheet = read_xlsx(register_xlsx([record(email="a-rather-long-address@example.org")]))
    assert sheet.freeze_panes == "A2"
    assert all(c.font.b for c in sheet[1])
    assert sheet.auto_filter.ref == "A1:O2"
    widths = {col: sheet.column_dimensions[col].width for col in ("A", "C", "J")}
    assert widths["C"] >= len("a-rather-long-address@example.org") and 10 <= widths["A"] <= 50


def test_file_name_part_is_a_plain_ascii_slug():
    assert file_name_part("Zoë's Clinic / North") == "zoe-s-clinic-north"
    assert file_name_part("王") == "unnamed"
    assert len(file_name_part("x" * 500)) <= 60


def _sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_xlsx_read_back_with_openpyxl_holds_every_record_value():
    records = [record(person_id=n, name=f"Person {n}", email=f"p{n}@example.org", active=n % 2 == 0,
                      days_to_expiry=n - 50, basics_best_score=n / 4 if n % 3 else None,
                      issued=date(2026, 1, 1 + n % 28), due_date=None if n % 5 else date(2026, 6, 30))
               for n in range(1, 301)]
    sheet = read_xlsx(register_xlsx(records))
    header = [c.value for c in sheet[1]]
    assert header == list(records[0])
    for row, expected in zip(sheet.iter_rows(min_row=2), records, strict=True):
        got = {name: cell.value for name, cell in zip(header, row, strict=True)}
        for name, value in expected.items():
            if isinstance(value, date):
                assert got[name].date() == value and row[header.index(name)].number_format == "yyyy-mm-dd"
            else:
                assert got[name] == value, (name, got[name], value)
    assert sheet.max_row == 301 and sheet.auto_filter.ref == "A1:O301" and sheet.freeze_panes == "A2"
