"""Practical competence: assessors' registrations, the learner's logbook, DOPS sign-offs."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, JSON, Column, ForeignKey, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model, db

#: The rating scale of every checklist step and of the overall judgement, weakest first.
NOT_YET_COMPETENT = "not_yet_competent"
COMPETENT_WITH_SUPERVISION = "competent_with_supervision"
COMPETENT = "competent"
RATINGS = (NOT_YET_COMPETENT, COMPETENT_WITH_SUPERVISION, COMPETENT)

#: A logged case waits for an assessor, then is verified or returned with a comment.
CASE_SUBMITTED = "submitted"
CASE_VERIFIED = "verified"
CASE_RETURNED = "returned"

assessor_clinics = Table(
    "assessor_clinics", db.metadata,
    Column("registration_id", ForeignKey("assessor_registrations.id"), primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id"), primary_key=True, index=True),
)


class AssessorRegistration(Model):
    """An assessor's professional registration and the clinics they assess in."""

    __tablename__ = "assessor_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One registration per assessor account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True, nullable=False)
    #: The registering body, e.g. "NMC", "GMC", "State Board of Nursing (TX)".
    body: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The PIN, licence or registration number with that body.
    number: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The last day the registration counts; an expired one cannot sign.
    expires_on: Mapped[date] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    #: Set by an admin who checked the register; any change of body, number or expiry clears it.
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    verified_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    clinics = relationship("Clinic", secondary=assessor_clinics, order_by="Clinic.name")

    @property
    def clinic_ids(self) -> set[int]:
        return {c.id for c in self.clinics}


class LogbookCase(Model):
    """One supervised treatment a learner logged for a course's practical requirements."""

    __tablename__ = "logbook_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    treated_on: Mapped[date] = mapped_column(nullable=False)
    #: The clinic's anonymised client reference; never a name.
    client_ref: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Fitzpatrick skin type 1..6.
    fitzpatrick: Mapped[int] = mapped_column(nullable=False)
    #: One of the course's practical indications.
    indication: Mapped[str] = mapped_column(String(100), nullable=False)
    #: [{"area": str, "depth_mm": float}], one entry per treated area.
    areas: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    device: Mapped[str] = mapped_column(String(200), nullable=False)
    cartridge_lot: Mapped[str] = mapped_column(String(100), nullable=False)
    rescreen_done: Mapped[bool] = mapped_column(nullable=False)
    consent_recorded: Mapped[bool] = mapped_column(nullable=False)
    glide: Mapped[str] = mapped_column(String(200), nullable=False)
    aftercare_given: Mapped[bool] = mapped_column(nullable=False)
    #: None when there was no adverse event; otherwise its type, with the action taken.
    adverse_event: Mapped[str | None] = mapped_column(Text, nullable=True)
    adverse_action: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Who supervised the treatment (free text: they may not have an account).
    supervisor: Mapped[str] = mapped_column(String(200), nullable=False)
    #: CASE_SUBMITTED, CASE_VERIFIED or CASE_RETURNED.
    status: Mapped[str] = mapped_column(String(20), index=True, nullable=False, default=CASE_SUBMITTED)
    created_dt: Mapped[datetime] = mapped_column(index=True, nullable=False, default=clock.now)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    photos: Mapped[list[CasePhoto]] = relationship(back_populates="case", order_by="CasePhoto.id")


class CasePhoto(Model):
    """A clinical photograph attached to a case; the re-encoded file lives under the instance folder."""

    __tablename__ = "logbook_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("logbook_cases.id"), index=True, nullable=False)
    #: Random file name inside the photo store; never derived from the upload.
    stored_name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)
    size_bytes: Mapped[int] = mapped_column(nullable=False)
    #: The client consented to this photograph being taken and kept.
    consent_recorded: Mapped[bool] = mapped_column(nullable=False)
    uploaded_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    case: Mapped[LogbookCase] = relationship(back_populates="photos")


class DopsObservation(Model):
    """A signed direct observation of a procedure; never changed once signed."""

    __tablename__ = "dops_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person observed.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    #: The competency id from the course's practical section.
    competency_id: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The logged case that was observed, if it was one (it then counts as observed).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("logbook_cases.id"), index=True, nullable=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    #: {step id: one of RATINGS} for every step of the competency's checklist.
    ratings: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: One of RATINGS.
    overall: Mapped[str] = mapped_column(String(40), nullable=False)
    feedback: Mapped[str] = mapped_column(Text, nullable=False)
    #: The final sign-off of practical competence for the course (not a formative observation).
    is_final: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: What the assessor was when they signed (copied: a later change of registration alters nothing).
    assessor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    registration_body: Mapped[str] = mapped_column(String(100), nullable=False)
    registration_number: Mapped[str] = mapped_column(String(100), nullable=False)
    signed_dt: Mapped[datetime] = mapped_column(index=True, nullable=False, default=clock.now)

    user = relationship("User", foreign_keys=[user_id])
    assessor = relationship("User", foreign_keys=[assessor_id])
    course = relationship("Course")
    case = relationship("LogbookCase")

    @property
    def requires_supervision(self) -> bool:
        return self.overall == COMPETENT_WITH_SUPERVISION


class SignedRecordLocked(Exception):
    """Raised when code tries to change or delete a signed DOPS."""


@event.listens_for(DopsObservation, "before_update")
@event.listens_for(DopsObservation, "before_delete")
def _refuse_changes_to_signed(mapper, connection, target):
    # A sign-off is evidence: it is written once, in full, and never edited or removed.
    raise SignedRecordLocked(f"DOPS {target.id} is signed and locked")


# The database refuses to change a signed DOPS too, whatever code or SQL tries (the migration
# creates the same triggers). Deletes are refused by the ORM guard above.
LOCK_TRIGGER_SQLITE = (
    "CREATE TRIGGER dops_observations_locked BEFORE UPDATE ON dops_observations "
    "BEGIN SELECT RAISE(ABORT, 'a signed DOPS is locked'); END")
LOCK_FUNCTION_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION dops_observations_locked() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'a signed DOPS is locked'; END; $$ LANGUAGE plpgsql")
LOCK_TRIGGER_POSTGRESQL = (
    "CREATE TRIGGER dops_observations_locked BEFORE UPDATE ON dops_observations "
    "FOR EACH ROW EXECUTE FUNCTION dops_observations_locked()")
event.listen(DopsObservation.__table__, "after_create", DDL(LOCK_TRIGGER_SQLITE).execute_if(dialect="sqlite"))
event.listen(DopsObservation.__table__, "after_create", DDL(LOCK_FUNCTION_POSTGRESQL).execute_if(dialect="postgresql"))
event.listen(DopsObservation.__table__, "after_create", DDL(LOCK_TRIGGER_POSTGRESQL).execute_if(dialect="postgresql"))
