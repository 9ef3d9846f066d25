"""What each kind of background job does; each reports progress and returns a file or a summary."""
from __future__ import annotations

from flask import current_app

from trainer import clock
from trainer.certification.pdf import certificates_zip
from trainer.database import begin_write
from trainer.extensions import db
from trainer.links import external_url, url_builder
from trainer.models import Certificate, Clinic, Job, Module, User
from trainer.services import NotFound, ServiceError
from trainer.services.exports import (
    certificate_document,
    certificate_file_name,
    current_clinic_certificates,
    record_export,
)
from trainer.services.jobs import JobFile, Progress, job_kind
from trainer.services.notifications import send_notifications
from trainer.services.regrade import regrade_module
from trainer.services.training_records import clinic_pack


def _verify_url(cert: Certificate) -> str:
    return external_url("public.verify", code=cert.code)


def _requester(job: Job) -> User | None:
    return db.session.get(User, job.requested_by_id) if job.requested_by_id is not None else None


def _clinic(job: Job) -> Clinic:
    clinic = db.session.get(Clinic, job.clinic_id) if job.clinic_id is not None else None
    if clinic is None:
        raise NotFound("The clinic of this job no longer exists.")
    return clinic


@job_kind("certificates_zip")
def certificates_zip_job(job: Job, progress: Progress) -> JobFile:
    """Every current certificate of the clinic as PDFs in one ZIP (about 0.17 s per PDF)."""
    clinic = _clinic(job)
    certificates = current_clinic_certificates(clinic.id)
    documents = []
    progress(0, len(certificates))
    for done, cert in enumerate(certificates, start=1):
        documents.append((certificate_file_name(cert), certificate_document(cert, _verify_url(cert))))
        progress(done, len(certificates))
    data = certificates_zip(documents)
    record_export(_requester(job), "certificates_zip", clinic.id, len(documents))
    return JobFile(data, job.params.get("file_name") or f"certificates-{clinic.id}.zip", "application/zip")


@job_kind("clinic_pack")
def clinic_pack_job(job: Job, progress: Progress) -> JobFile:
    """Every staff member's training record and certificates, with a SHA-256 manifest."""
    clinic = _clinic(job)
    data = clinic_pack(_requester(job), clinic, _verify_url, progress=progress)
    return JobFile(data, job.params.get("file_name") or f"training-records-{clinic.id}.zip", "application/zip")


@job_kind("regrade")
def regrade_job(job: Job, progress: Progress) -> str:
    """Grade a module's past attempts against the current versions of their questions (audited)."""
    module = db.session.get(Module, job.params.get("module_id"))
    if module is None:
        raise NotFound("The module of this regrade no longer exists.")
    progress(0, 1)
    begin_write(db.session)  # it writes grades: take SQLite's write lock before reading what it changes
    report = regrade_module(_requester(job), module, dry_run=False)  # reloaded after begin_write's rollback
    db.session.commit()  # release the write lock before the progress write (its own connection)
    progress(1, 1)
    return f"{len(report.changes)} result(s) changed, {report.unchanged} unchanged."


@job_kind("notify")
def notify_job(job: Job, progress: Progress) -> str:
    """Expiry reminders, overdue notices and managers' digests not sent before; each message goes out once."""
    progress(0, 1)
    begin_write(db.session)
    try:
        urls = url_builder(job.params.get("base_url"))
    except ValueError as exc:
        raise ServiceError(str(exc)) from exc
    report = send_notifications(clock.now(), current_app.config.get("SMTP_URL"), urls)
    if report.smtp_error:
        raise ServiceError(f"The mail server refused a message ({report.smtp_error}); unsent messages stay in the "
                           "outbox and go out on the next run.")
    db.session.commit()  # release the write lock before the progress write (its own connection)
    progress(1, 1)
    return report.summary()
