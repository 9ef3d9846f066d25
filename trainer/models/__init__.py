"""Database models, one module per aggregate. Importing this package registers them all."""
from trainer.models.accounts import (
    ROLES,
    ApiToken,
    Clinic,
    ExternalIdentity,
    Invitation,
    PasswordReset,
    User,
    UserRole,
)
from trainer.models.assignments import Assignment
from trainer.models.attempts import Attempt, AttemptQuestion, GradeHistory
from trainer.models.audit import AuditEvent
from trainer.models.certificates import Certificate, CertificationLock
from trainer.models.courses import Course, CourseMedia, Module, Question, QuestionVersion
from trainer.models.jobs import Job
from trainer.models.notifications import OutboxMessage, RateCounter
from trainer.models.practical import AssessorRegistration, CasePhoto, DopsObservation, LogbookCase

__all__ = [
    "ROLES", "ApiToken", "Clinic", "ExternalIdentity", "Invitation", "PasswordReset", "User", "UserRole",
    "Assignment", "Attempt",
    "AttemptQuestion", "GradeHistory", "AuditEvent", "Certificate", "CertificationLock", "Course", "CourseMedia",
    "Module", "Question", "QuestionVersion", "OutboxMessage", "RateCounter", "AssessorRegistration", "CasePhoto",
    "DopsObservation", "LogbookCase", "Job",
]
