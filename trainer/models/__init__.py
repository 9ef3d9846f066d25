"""Database models, one module per aggregate. Importing this package registers them all."""
from trainer.models.accounts import ROLES, Clinic, LoginFailure, User, UserRole
from trainer.models.attempts import Attempt, AttemptQuestion
from trainer.models.audit import AuditEvent
from trainer.models.certificates import Certificate
from trainer.models.courses import Course, CourseMedia, Module, Question, QuestionVersion

__all__ = [
    "ROLES", "Clinic", "LoginFailure", "User", "UserRole", "Attempt", "AttemptQuestion",
    "AuditEvent", "Certificate", "Course", "CourseMedia", "Module", "Question", "QuestionVersion",
]
