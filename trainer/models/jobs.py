"""Background jobs: what was asked, by whom, for which clinic, how far it got and where its file is."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_STATUSES = (QUEUED, RUNNING, DONE, FAILED)


class Job(Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the job makes, e.g. "certificates_zip", "clinic_pack", "register_export", "regrade", "notify".
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Who asked; None for runs started from the command line without a person.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    #: The clinic whose records the job reads; None for chain-wide jobs (admins only).
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True, nullable=True)
    #: The job's own arguments (a module id, a file format, filters), as JSON.
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=QUEUED, index=True)
    progress_done: Mapped[int] = mapped_column(nullable=False, default=0)
    #: None until the job knows how much there is to do.
    progress_total: Mapped[int | None] = mapped_column(nullable=True)
    #: How many times a worker took it up; more than 1 after a worker died mid-job.
    runs: Mapped[int] = mapped_column(nullable=False, default=0)
    #: The finished file in the jobs folder (never under static/); None before done and after clean-up.
    result_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: The name the download gets, and its media type.
    result_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result_mimetype: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: What the job did, for jobs without a file (a regrade, a notification run): one line.
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Why it failed, in one sentence a person can act on.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    started_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Written with every step of progress; a running job whose heartbeat stopped lost its worker.
    heartbeat_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_dt: Mapped[datetime | None] = mapped_column(nullable=True, index=True)

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    clinic = relationship("Clinic", foreign_keys=[clinic_id])
