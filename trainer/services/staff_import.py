"""Bulk staff import from a CSV or XLSX file: a preview of what would be created, updated or refused
(`line N: message`), then all of it applied in one transaction, or nothing.

Columns (first row, any case and order): email, name, roles (several separated by ';'), clinic (for
admins and the command line; a manager's own clinic otherwise), and optionally course (its slug or
title) with due (YYYY-MM-DD) to assign a course. New people get an e-mail with a link, valid 7 days,
to choose their password.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from trainer.extensions import db
from trainer.models import Clinic, Course, User
from trainer.security import can_change_account, has_role
from trainer.services import ServiceError
from trainer.services.accounts import find_clinic
from trainer.services.audit import record_event
from trainer.services.staff import add_account, change_account, check_due_date, checked_account_fields, set_assignments

COLUMNS = ("email", "name", "roles", "clinic", "course", "due")
MAX_ROWS = 2000
MAX_BYTES = 1024 * 1024
TEMPLATE_CSV = ("email,name,roles,clinic,course,due\n"
                "pat.okafor@example.org,Pat Okafor,learner,,,\n"
                "morgan.reyes@example.org,Morgan Reyes,manager;learner,,,\n")


@dataclass
class StaffRow:
    line: int
    email: str
    name: str
    roles: list[str]
    clinic: Clinic | None
    #: The existing account this row updates; None when it creates one.
    person: User | None = None
    #: A course to assign, with its due date.
    course: Course | None = None
    due: date | None = None


@dataclass
class StaffImportPlan:
    rows: list[StaffRow] = field(default_factory=list)
    #: "line N: message", in line order; any one of them means nothing is applied.
    problems: list[str] = field(default_factory=list)

    @property
    def created(self) -> list[StaffRow]:
        return [r for r in self.rows if r.person is None]

    @property
    def updated(self) -> list[StaffRow]:
        return [r for r in self.rows if r.person is not None]


def read_staff_file(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: text}) per non-empty row of a CSV or XLSX file; ServiceError for an unreadable one."""
    if len(data) > MAX_BYTES:
        raise ServiceError(f"The file is larger than {MAX_BYTES // 1024} KiB; split it into several.")
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(data)
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ServiceError(
                "line 1: the CSV file is not UTF-8; save it as 'CSV UTF-8' and upload it again.") from None
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise ServiceError("Upload a .csv or .xlsx file (the template is a CSV).")
    if not table:
        raise ServiceError("line 1: the file is empty; start from the template.")
    header = [str(h or "").strip().lower() for h in table[0]]
    missing = [c for c in ("email", "name") if c not in header]
    if missing:
        raise ServiceError(f"line 1: the first row names the columns and needs {' and '.join(missing)} "
                           f"(columns: {', '.join(COLUMNS)}).")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {h: str(cells[i] if i < len(cells) and cells[i] is not None else "").strip()
                  for i, h in enumerate(header) if h in COLUMNS}
        if any(values.values()):
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ServiceError(f"The file has {len(rows):,} people; import at most {MAX_ROWS:,} at a time.")
    return rows


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ServiceError("This .xlsx file cannot be read; save it again from the spreadsheet program.") from None
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def plan_staff_import(actor, rows: list[tuple[int, dict[str, str]]], clinic: Clinic | None) -> StaffImportPlan:
    """Check every row as the actor would add or change it; nothing is written.

    `clinic` is the clinic for rows without one (a manager's own); admins and the operator (actor None)
    may name any clinic in the row.
    """
    plan = StaffImportPlan()
    seen: dict[str, int] = {}
    for line, values in rows:
        try:
            plan.rows.append(_plan_row(actor, line, values, clinic, seen))
        except ServiceError as exc:
            plan.problems.append(f"line {line}: {exc}")
    return plan


def _plan_row(actor, line: int, values: dict[str, str], default_clinic: Clinic | None, seen: dict) -> StaffRow:
    clinic = default_clinic
    if values.get("clinic"):
        clinic = find_clinic(values["clinic"])
        if clinic is None or (actor is not None and not has_role(actor, "admin") and clinic.id != actor.clinic_id):
            raise ServiceError(f"there is no clinic named {values['clinic']!r} that you manage.")
    roles = ([r.strip().lower() for r in values.get("roles", "").replace(",", ";").split(";") if r.strip()]
             or ["learner"])
    existing = db.session.scalar(select(User).where(User.email == values.get("email", "").strip().lower()))
    if existing is not None and actor is not None and not can_change_account(actor, existing):
        raise ServiceError(f"{existing.email} has an account you cannot change (another clinic, or a higher role).")
    email, name, roles = checked_account_fields(actor, values.get("email", ""), values.get("name", ""), roles, clinic,
                                                 person_id=existing.id if existing else None)
    if email in seen:
        raise ServiceError(f"{email} is also on line {seen[email]}; give each person once.")
    seen[email] = line
    if clinic is not None and clinic.archived_dt is not None and (existing is None or existing.clinic_id != clinic.id):
        raise ServiceError(f"{clinic.name} is archived.")
    course, due = _course_and_due(values)
    return StaffRow(line, email, name, roles, clinic, existing, course, due)


def _course_and_due(values: dict[str, str]) -> tuple[Course | None, date | None]:
    wanted, due_text = values.get("course", ""), values.get("due", "")
    if not wanted and not due_text:
        return None, None
    if not wanted or not due_text:
        raise ServiceError("give both a course and its due date (YYYY-MM-DD), or neither.")
    course = db.session.scalar(select(Course).where(Course.slug == wanted)) or db.session.scalar(
        select(Course).where(Course.title == wanted))
    if course is None:
        raise ServiceError(f"there is no course {wanted!r}; give its slug or its exact title.")
    try:
        due = date.fromisoformat(due_text[:10])
    except ValueError:
        raise ServiceError(f"{due_text!r} is not a date; write it as YYYY-MM-DD.") from None
    check_due_date(due)
    return course, due


def apply_staff_import(actor, plan: StaffImportPlan, home_url: str | None = None) -> tuple[int, int]:
    """Create and update everything in the plan in one transaction, or nothing; returns (created, updated).

    New people are e-mailed their 7-day password link once the transaction has committed.
    """
    from trainer.services.password_reset import mail_welcome_link

    if plan.problems:
        raise ServiceError(f"Nothing was imported: {len(plan.problems)} line(s) need fixing first.")
    welcome = []
    updated = 0
    try:
        for row in plan.rows:
            if row.person is None:
                welcome.append(add_account(actor, row.email, row.name, row.roles, row.clinic))
                person = welcome[-1][0]
            else:
                person = row.person
                updated += change_account(actor, row.person, row.email, row.name, row.roles, row.clinic)
            if row.course is not None and row.due is not None:  # the preview asks for a due date with a course
                set_assignments(actor, row.course, [person], row.due, home_url)
        record_event(actor, "users.import", "users", created=len(welcome), updated=updated)
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    for user, token in welcome:
        mail_welcome_link(actor, user, token)
    return len(welcome), updated
