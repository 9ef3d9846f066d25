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


def demo_reset_links() -> list[tuple[str, str]]:
    """(email, single-use reset link) for each active demo account, for a newcomer who lost the password."""
    from trainer.services.password_reset import operator_reset_link

    emails = [email for email, *_ in DEMO_ACCOUNTS]
    present = set(db.session.scalars(select(User.email).where(User.email.in_(emails), User.is_enabled.is_(True))))
    return [(email, operator_reset_link(email)) for email in emails if email in present]


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
        assessor = _seed_assessor(course, clinic, seed, c, password_hash) if course.practical else None
        for person in people:
            skill = rng.random()
            budget = rng.randint(0, attempts)
            if assessor is not None:
                clock.freeze(start - timedelta(days=rng.randint(301, 400)))
                counts["cases"] = counts.get("cases", 0) + _seed_practical(course, assessor, person, skill, rng)
            # Modules in order, retaking a failed one (days apart, past any cooldown) while the budget lasts.
            when = start - timedelta(days=rng.randint(60, 300))
            for module in course.modules:
                passed = False
                while budget > 0 and not passed:
                    clock.freeze(when)
                    when += timedelta(days=rng.randint(2, 20))
                    attempt = start_attempt(person, module, rng=random.Random(rng.random()))
                    form = _FormValues()
                    for aq in attempt.questions:
                        _answer(form, aq, question_type(aq.version.content["type"]), rng.random() < 0.6 + 0.4 * skill)
                    save_answers(person, attempt.id, {aq.position: 1 for aq in attempt.questions}, form)
                    passed = bool(submit_attempt(person, attempt.id).passed)
                    counts["attempts"] += 1
                    budget -= 1
                if not passed:
                    break
    clock.freeze(None)
    return counts


def _seed_assessor(course, clinic, seed: int, index: int, password_hash: str) -> User:
    """A verified assessor attached to the clinic (registered by an admin, as the real path needs)."""
    from trainer.models import UserRole
    from trainer.services.practical import record_registration, verify_registration

    admin = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "admin").order_by(User.id))
    if admin is None:
        admin = User(email=f"admin{seed}@demo.clinic", name="Seed Admin", password_hash=password_hash,
                     role_rows=[UserRole(role="admin")])
        db.session.add(admin)
    assessor = User(email=f"assessor{seed}-{index + 1}@demo.clinic", name=f"Assessor {index + 1}",
                    password_hash=password_hash, clinic_id=clinic.id, role_rows=[UserRole(role="assessor")])
    db.session.add(assessor)
    db.session.commit()
    registration = record_registration(admin, assessor, "NMC", f"DEMO{seed}{index + 1:04d}",
                                       clock.now().date() + timedelta(days=730), [clinic])
    verify_registration(admin, registration)
    return assessor


def _seed_practical(course, assessor: User, person: User, skill: float, rng) -> int:
    """Skilled people get a complete practical record; the others a logbook in progress."""
    minimum = course.practical["logbook"]["min_cases"]
    if skill > 0.35:
        complete_practical_record(course, assessor, person, overall="competent" if skill > 0.6
                                  else "competent_with_supervision", rng=rng)
        return minimum
    cases = rng.randint(0, minimum - 1)
    log_verified_cases(course, assessor, person, cases, rng)
    return cases


def log_verified_cases(course, assessor: User, person: User, count: int, rng) -> list:
    """Log `count` supervised cases across the course's first two indications, each verified by `assessor`."""
    from trainer.services.practical import log_case, review_case

    indications = course.practical["logbook"].get("indications") or ["other"]
    cases = []
    for n in range(count):
        case = log_case(person, course, {
            "treated_on": clock.now().date().isoformat(), "client_ref": f"C-{person.id}{n:02d}",
            "fitzpatrick": rng.choice(["II", "III", "IV", "V"]), "indication": indications[n % 2],
            "areas": "cheeks: 1.0\nforehead: 0.5", "device": "Motorised pen",
            "cartridge_lot": f"LOT{rng.randint(1000, 9999)}",
            "glide": "Sterile hyaluronic glide supplied for the procedure", "supervisor": assessor.name,
            "rescreen_done": True, "consent_recorded": True, "aftercare_given": True})
        review_case(assessor, case, True, "")
        cases.append(case)
    return cases


def complete_practical_record(course, assessor: User, person: User, overall: str = "competent", rng=None):
    """The course's minimum of verified cases and a signed final DOPS, through the real services."""
    import random

    from trainer.services.practical import sign_dops

    rng = rng or random.Random(person.id)
    cases = log_verified_cases(course, assessor, person, course.practical["logbook"]["min_cases"], rng)
    competency = course.practical["competencies"][0]
    return sign_dops(assessor, person, course, competency["id"],
                     {step["id"]: overall for step in competency["checklist"]}, overall,
                     "Safe, methodical treatment; consent and re-screen recorded.", case=cases[-1], final=True)


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
