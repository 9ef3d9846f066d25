"""Files to download: a certificate as PDF, a clinic's certificates as ZIP, the register as CSV or XLSX."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from trainer import clock
from trainer.certification.pdf import certificates_zip
from trainer.links import external_url
from trainer.models import Certificate, Clinic, Course
from trainer.security import can_view_person, clinic_in_scope, role_required
from trainer.services.certificates import find_certificate
from trainer.services.exports import (
    certificate_document,
    certificate_file_name,
    current_clinic_certificates,
    file_name_part,
    record_export,
    register_csv,
    register_xlsx,
)
from trainer.services.jobs import request_job
from trainer.services.register import (
    InvalidRegisterFilter,
    RegisterFilters,
    all_courses,
    clinic_staff,
    course_progress,
    filter_register,
    parse_register_filters,
    register_record,
)
from trainer.task_queue import enqueue_job
from trainer.views.downloads import file_download
from trainer.views.errors import error_response
from trainer.views.manage import course_in_scope

bp = Blueprint("documents", __name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/certificates/<code>.pdf")
@login_required
def certificate_pdf(code: str):
    cert = find_certificate(code)
    if cert is None or not can_view_person(current_user, cert.user):
        abort(404)
    if cert.revoked_dt is not None:
        abort(410, "This certificate was revoked, so no document is issued for it. "
                   "Its verification page shows the revocation.")
    return file_download(certificate_document(cert, _verify_url(cert)), f"certificate-{cert.code}.pdf",
                         "application/pdf")


@bp.route("/manage/certificates.zip")
@role_required("manager", "admin")
def certificates_archive():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:  # one clinic at a time: the whole chain would take too long to render
        abort(404)
    documents = [(certificate_file_name(cert), certificate_document(cert, _verify_url(cert)))
                 for cert in current_clinic_certificates(clinic.id)]
    name = _dated_name("certificates", clinic, "zip")
    record_export(current_user, "certificates_zip", clinic.id, len(documents))
    return file_download(certificates_zip(documents), name, "application/zip")


@bp.post("/manage/certificates.zip")
@role_required("manager", "admin")
def certificates_archive_job():
    """Make the ZIP in the background (a large clinic would outlast the request) and show its progress."""
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:
        abort(404)
    job_id = request_job(current_user, "certificates_zip", clinic.id,
                      {"file_name": _dated_name("certificates", clinic, "zip")})
    enqueue_job(job_id)
    return redirect(url_for("jobs.job_page", job_id=job_id), 303)


@bp.route("/manage/register.csv")
@role_required("manager", "admin")
def register_csv_export():
    clinic, course = clinic_in_scope(current_user, request.values.get("clinic", "")), course_in_scope(all_courses())
    filters = _register_filters()
    columns, records = _register_records(clinic, course, filters)
    data, name = register_csv(records, columns).encode("utf-8"), _dated_name("register", clinic, "csv", course)
    record_export(current_user, "register_csv", clinic.id if clinic else None, len(records))
    return file_download(data, name, "text/csv")  # Flask appends "; charset=utf-8" to text/* itself


@bp.route("/manage/register.xlsx")
@role_required("manager", "admin")
def register_xlsx_export():
    clinic, course = clinic_in_scope(current_user, request.values.get("clinic", "")), course_in_scope(all_courses())
    filters = _register_filters()
    columns, records = _register_records(clinic, course, filters)
    data, name = register_xlsx(records, columns), _dated_name("register", clinic, "xlsx", course)
    record_export(current_user, "register_xlsx", clinic.id if clinic else None, len(records))
    return file_download(data, name, XLSX_MIMETYPE)


def _register_records(clinic: Clinic | None, course: Course,
                      filters: RegisterFilters) -> tuple[list[str] | None, list[dict]]:
    """The register rows the console would show for these parameters, as export records, and their columns.

    `clinic` None is an admin's chain-wide register (?clinic=all), as in the console.
    """
    everyone = course_progress(clinic_staff(clinic.id if clinic else None), course)
    records = [register_record(row) for row in filter_register(everyone, **filters)]
    # Taken from any row, so a filter that matches no one still gives a file with its header.
    columns = list(register_record(everyone[0])) if everyone else None
    return columns, records


def _register_filters() -> RegisterFilters:
    try:
        return parse_register_filters(request.args)
    except InvalidRegisterFilter as exc:
        # Stop with a 400 that tells the person what to change (the generic 400 page would not).
        abort(make_response(error_response(400, str(exc))))


def _verify_url(cert: Certificate) -> str:
    return external_url("public.verify", code=cert.code)


def _dated_name(kind: str, clinic: Clinic | None, extension: str, course: Course | None = None) -> str:
    parts = [kind, file_name_part(clinic.name) if clinic else "all-clinics"]
    if course is not None:
        parts.append(file_name_part(course.slug))
    return f"{'-'.join(parts)}-{clock.now().date().isoformat()}.{extension}"


