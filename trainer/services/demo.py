"""Demo data for a first run: one clinic and one account per role."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from trainer import clock

from trainer.extensions import db
from trainer.models import User
from trainer.services.accounts import create_clinic, create_user, find_clinic
from trainer.services.practical import record_registration, verify_registration

DEMO_CLINIC = "Demo Skin Clinic"
DEMO_ACCOUNTS = [
    ("practitioner@demo.clinic", "Pat Practitioner", ["learner"], True),
    ("manager@demo.clinic", "Morgan Manager", ["manager", "learner"], True),
    ("trainer@demo.clinic", "Terry Trainer", ["trainer"], False),
    ("admin@demo.clinic", "Alex Admin", ["admin"], False),
    ("assessor@demo.clinic", "Jo Assessor", ["assessor"], True),
]


def create_demo_accounts(password: str) -> list[User]:
    """Create the demo clinic and accounts when the database has no accounts; else nothing."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return []
    clinic = find_clinic(DEMO_CLINIC) or create_clinic(None, DEMO_CLINIC)
    accounts = [create_user(None, email, name, password, roles, clinic if in_clinic else None)
                for email, name, roles, in_clinic in DEMO_ACCOUNTS]
    # The demo assessor can verify cases and sign off at once: a registration marked as demo, verified.
    admin = next(a for a in accounts if "admin" in a.roles)
    assessor = next(a for a in accounts if "assessor" in a.roles)
    registration = record_registration(admin, assessor, "Demo register", "DEMO-0001",
                                       clock.now().date() + timedelta(days=365), [clinic])
    verify_registration(admin, registration)
    return accounts


def seed_demo_data(*, clinics: int, staff: int, attempts: int, seed: int, password: str) -> dict:
    """A realistic synthetic dataset: clinics of staff at every stage of the course.

    Everyone shares one password (hashed once: bcrypt at cost 12 per account would take minutes).
    Attempts are real attempts through the attempt service, answered right with a per-person skill.
    """
    import random
    from datetime import timedelta

    from trainer import clock
    from trainer.models import Course, UserRole
    from trainer.quiz.types import question_type
    from trainer.services.accounts import hash_password
    from trainer.services.attempts import save_answers, start_attempt, submit_attempt

    rng = random.Random(seed)
    course = db.session.scalar(select(Course).order_by(Course.title))
    if course is None:
        raise ValueError("Import a course first (flask banks import question_banks).")
    password_hash = hash_password(password)
    first_names = ["Ana", "Ben", "Cara", "Dev", "Ella", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena", "Mo",
                   "Nia", "Omar", "Pia", "Raj", "Sara", "Tom", "Uma", "Vik", "Wen", "Yara", "Zoe"]
    last_names = ["Silva", "Carter", "Martin", "Patel", "Novak", "Okafor", "Rossi", "Kim", "Haddad", "Lund"]
    counts = {"clinics": 0, "people": 0, "attempts": 0}
    start = clock.now()
    for c in range(clinics):
        clinic = create_clinic(None, f"Demo Clinic {seed}-{c + 1}")
        counts["clinics"] += 1
        people = []
        for s in range(staff):
            name = f"{rng.choice(first_names)} {rng.choice(last_names)}"
            person = User(email=f"staff{seed}-{c + 1}-{s + 1}@demo.clinic", name=name, password_hash=password_hash,
                          clinic_id=clinic.id, role_rows=[UserRole(role="learner")] +
                          ([UserRole(role="manager")] if s == 0 else []))
            db.session.add(person)
            people.append(person)
        db.session.commit()
        counts["people"] += len(people)
        for person in people:
            skill = rng.random()
            budget = rng.randint(0, attempts)
            for module in course.modules:
                if budget <= 0:
                    break
                clock.freeze(start - timedelta(days=rng.randint(1, 300)))
                attempt = start_attempt(person, module, rng=random.Random(rng.random()))
                form = _FormValues()
                for aq in attempt.questions:
                    _answer(form, aq, question_type(aq.version.content["type"]), rng.random() < 0.5 + skill / 2)
                save_answers(person, attempt.id, {aq.position: 1 for aq in attempt.questions}, form)
                submit_attempt(person, attempt.id)
                counts["attempts"] += 1
                budget -= 1
    clock.freeze(None)
    return counts


class _FormValues(dict):
    def getlist(self, key):
        value = self.get(key)
        return [] if value is None else value if isinstance(value, list) else [value]


def _answer(form: dict, aq, qtype, right: bool) -> None:
    """Fill form fields for one question, right or wrong, as the page would post them."""
    q, order, name = aq.version.content, aq.display_order, f"q{aq.position}"
    if q["type"] in ("single", "multiple"):
        wanted = [i for i, c in enumerate(q["choices"]) if bool(c.get("correct")) == right] or [0]
        form[name] = [str(order.index(i)) for i in wanted] if q["type"] == "multiple" else str(order.index(wanted[0]))
    elif q["type"] == "true_false":
        form[name] = "true" if q["answer"] == right else "false"
    elif q["type"] == "matching":
        n = len(order["left"])
        for pos, left in enumerate(order["left"]):
            form[f"{name}-{pos}"] = str(order["right"].index(left if right else (left + 1) % n))
    elif q["type"] == "ordering":
        n = len(order)
        for pos, idx in enumerate(order):
            form[f"{name}-{pos}"] = str(idx + 1 if right else n - idx)
    else:
        form[name] = q["answers"][0] if right else "not sure"
