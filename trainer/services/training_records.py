"""Training records for inspectors and insurers: one person's PDF, and a clinic's pack as a ZIP
with a manifest of SHA-256 hashes."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from trainer import clock
from trainer.certification.practical import progress_summary
from trainer.certification.record_pdf import TrainingRecord, training_record_pdf
from trainer.database import begin_write
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, Certificate, Clinic, Course, DopsObservation, LogbookCase, User
from trainer.models.attempts import SUBMITTED
from trainer.security import can_manage_clinic, can_view_person
from trainer.services import NotFound
from trainer.services.audit import record_event
from trainer.services.certificates import certificate_state
from trainer.services.exports import certificate_document, certificate_file_name, file_name_part
from trainer.services.practical import practical_progress

RATING_WORDS = {"not_yet_competent": "not yet competent", "competent_with_supervision": "competent with supervision",
                "competent": "competent"}


def _question_set(attempt: Attempt) -> str:
    """A short fingerprint of the exact question versions an attempt showed (its content version)."""
    ids = sorted(aq.question_version_id for aq in attempt.questions)
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:10]


def _areas(areas: list[dict]) -> str:
    return ", ".join(f"{a['area']} {a['depth_mm']} mm" for a in areas)


def _record(person: User, verify_url: Callable[[Certificate], str]) -> TrainingRecord:
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.user_id == person.id, Attempt.state == SUBMITTED)
        .options(selectinload(Attempt.module),
                 selectinload(Attempt.questions).load_only(AttemptQuestion.question_version_id))
        .order_by(Attempt.submitted_dt, Attempt.id)).all()
    record = TrainingRecord(name=person.name, email=person.email,
                            clinic=person.clinic.name if person.clinic else "no clinic", generated=clock.now())
    record.attempts = [
        f"{a.module.course.title} / {a.module.title}: attempt {a.number}, {a.submitted_dt:%Y-%m-%d}, "
        f"{a.score_percent:.0f}% ({'passed' if a.passed else 'not passed'}); question set {_question_set(a)}"
        for a in attempts]
    courses = db.session.scalars(select(Course).where(Course.practical.isnot(None)).order_by(Course.title)).all()
    summaries = []
    for course in courses:
        cases = db.session.scalars(
            select(LogbookCase).where(LogbookCase.user_id == person.id, LogbookCase.course_id == course.id)
            .order_by(LogbookCase.treated_on, LogbookCase.id)).all()
        if not cases:
            continue
        summaries.append(f"{course.title}: {progress_summary(course.practical, practical_progress(person.id, course))}")
        record.cases += [
            f"{c.treated_on.isoformat()} · {c.client_ref} · {c.indication.replace('-', ' ')} · "
            f"Fitzpatrick {c.fitzpatrick} · "
            f"{_areas(c.areas)} · {c.device}, lot {c.cartridge_lot} · "
            f"adverse events: {c.adverse_event or 'none'} · {c.status}"
            + (f" by {c.reviewed_by.name}" if c.reviewed_by else "") for c in cases]
    record.logbook_summary = "; ".join(summaries)
    observations = db.session.scalars(
        select(DopsObservation).where(DopsObservation.user_id == person.id)
        .order_by(DopsObservation.signed_dt, DopsObservation.id)).all()
    record.signoffs = [
        f"{o.signed_dt:%Y-%m-%d %H:%M} UTC · {o.course.title} · {RATING_WORDS[o.overall]}"
        f"{' · FINAL SIGN-OFF' if o.is_final else ''} · signed by {o.assessor_name} "
        f"({o.registration_body} {o.registration_number})" for o in observations]
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == person.id).order_by(Certificate.issued_dt)).all()
    record.certificates = [
        f"{c.course.title}: issued {c.issued_dt:%Y-%m-%d}, expires {c.expires_dt:%Y-%m-%d}, {certificate_state(c)}; "
        f"code {c.code}; verify at {verify_url(c)}" for c in certificates]
    return record


def training_record(viewer, person: User, verify_url: Callable[[Certificate], str]) -> bytes:
    """The person's training record as a PDF, for those who may see the person."""
    if viewer is not None and not can_view_person(viewer, person):
        raise NotFound("No such person.")
    document = training_record_pdf(_record(person, verify_url))
    record_event(viewer, "records.export", f"user:{person.id}")
    db.session.commit()
    return document


def record_file_name(person: User) -> str:
    return f"training-record-{file_name_part(person.name)}-{person.id}.pdf"


def clinic_pack(viewer, clinic: Clinic, verify_url: Callable[[Certificate], str],
                progress: Callable[[int, int], None] | None = None) -> bytes:
    """A ZIP of every staff member's training record and certificates (PDFs with QR codes), and
    manifest.json with each file's SHA-256; `progress(done, total)` is told after each person."""
    if not can_manage_clinic(viewer, clinic.id):
        raise NotFound("No such clinic.")
    staff = db.session.scalars(select(User).where(User.clinic_id == clinic.id).order_by(User.name, User.id)).all()
    files, manifest = [], []
    for done, person in enumerate(staff, start=1):
        documents = [(record_file_name(person), training_record_pdf(_record(person, verify_url)))]
        # Each certificate's own PDF too: its QR code lets an inspector verify it.
        for cert in db.session.scalars(select(Certificate).where(Certificate.user_id == person.id,
                                                                 Certificate.revoked_dt.is_(None))
                                       .order_by(Certificate.issued_dt)):
            documents.append((certificate_file_name(cert), certificate_document(cert, verify_url(cert))))
        for name, document in documents:
            files.append((name, document))
            manifest.append({"file": name, "person": person.name, "email": person.email,
                             "sha256": hashlib.sha256(document).hexdigest(), "bytes": len(document)})
        if progress is not None:
            progress(done, len(staff))
    body = {"clinic": clinic.name, "generated": clock.now().isoformat(timespec="seconds") + "Z", "files": manifest}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, document in files:
            archive.writestr(name, document)
        archive.writestr("manifest.json", json.dumps(body, indent=2, ensure_ascii=False))
    viewer_id, clinic_id = viewer.id, clinic.id
    begin_write(db.session)  # made during a page view or a job's reads: take SQLite's write lock for the append
    record_event(db.session.get(User, viewer_id), "records.clinic_pack", f"clinic:{clinic_id}", files=len(files))
    db.session.commit()
    return out.getvalue()
