"""Demo data for a first run: one clinic and one account per role."""
from __future__ import annotations

from sqlalchemy import func, select

from trainer.extensions import db
from trainer.models import User
from trainer.services.accounts import create_clinic, create_user, find_clinic

DEMO_CLINIC = "Demo Skin Clinic"
DEMO_ACCOUNTS = [
    ("practitioner@demo.clinic", "Pat Practitioner", ["learner"], True),
    ("manager@demo.clinic", "Morgan Manager", ["manager", "learner"], True),
    ("trainer@demo.clinic", "Terry Trainer", ["trainer"], False),
    ("admin@demo.clinic", "Alex Admin", ["admin"], False),
]


def create_demo_accounts(password: str) -> list[User]:
    """Create the demo clinic and accounts when the database has no accounts; else nothing."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return []
    clinic = find_clinic(DEMO_CLINIC) or create_clinic(None, DEMO_CLINIC)
    return [create_user(None, email, name, password, roles, clinic if in_clinic else None)
            for email, name, roles, in_clinic in DEMO_ACCOUNTS]
