"""Practical competence: assessors' registrations, the logbook, case review and DOPS sign-off.

Every write checks the rules in trainer/security.py, runs one transaction and records an
audit event. A final sign-off goes through the same certificate issuing path as a passed quiz.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import distinct, func, select, update

from trainer import clock
from trainer.certification.practical import PracticalProgress, progress_summary, requirements_met
from trainer.certification.status import PASSED
from trainer.database import execute_dml
from trainer.extensions import db
from trainer.models import Clinic, Course, User, UserRole
from trainer.models.practical import (
    CASE_RETURNED,
    CASE_SUBMITTED,
    CASE_VERIFIED,
    RATINGS,
    AssessorRegistration,
    DopsObservation,
    LogbookCase,
)
from trainer.security import can_assess, can_log_cases, can_manage_assessors, can_view_practical_record
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.audit import record_event

CLIENT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]{1,39}$")
AREA_LINE = re.compile(r"^(?P<area>[^:]{1,60}):\s*(?P<depth>\d+(?:\.\d+)?)\s*(?:mm)?$", re.I)
MAX_DEPTH_MM = 3.0  # the deepest published clinical protocols; devices are usually cleared for less
MAX_TEXT = 2000
FITZPATRICK = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


class CaseInvalid(ServiceError):
    """A logbook entry with problems; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("Please correct the case: " + "; ".join(problems.values()))


def _clean(value) -> str:
    return " ".join(str(value or "").split())


def _today() -> date:
    return clock.now().date()


def registration_of(user) -> AssessorRegistration | None:
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(select(AssessorRegistration).where(AssessorRegistration.user_id == user.id))


def _require_practical(course: Course) -> dict:
    if not course.practical:
        raise ServiceError(f"{course.title} has no practical requirements.")
    return course.practical


# --- assessors' registrations -------------------------------------------------------------

def record_registration(actor, assessor: User, body: str, number: str, expires_on: date | str,
                        clinics: list[Clinic]) -> AssessorRegistration:
    """Record (or change) an assessor's registration and clinics; a change needs re-verifying."""
    if not can_manage_assessors(actor):
        raise Forbidden("Only admins record assessors' registrations.")
    body, number = _clean(body), _clean(number)
    if not body or not number:
        raise ServiceError("Give the registering body (e.g. NMC, GMC) and the registration number.")
    if len(body) > 100 or len(number) > 100:
        raise ServiceError("The body and the number must be at most 100 characters each.")
    if isinstance(expires_on, str):
        try:
            expires_on = date.fromisoformat(expires_on.strip())
        except ValueError:
            raise ServiceError("Give the registration's expiry date as YYYY-MM-DD.") from None
    if expires_on < _today():
        raise ServiceError("That registration has already expired.")
    if not clinics:
        raise ServiceError("Attach the assessor to at least one clinic.")
    registration = registration_of(assessor)
    if registration is None:
        registration = AssessorRegistration(user_id=assessor.id, body=body, number=number, expires_on=expires_on)
        db.session.add(registration)
    elif (registration.body, registration.number, registration.expires_on) != (body, number, expires_on):
        registration.verified_dt = registration.verified_by_id = None
    registration.body, registration.number, registration.expires_on = body, number, expires_on
    registration.recorded_by_id, registration.recorded_dt = actor.id, clock.now()
    registration.clinics = list(clinics)
    if "assessor" not in assessor.roles:
        assessor.role_rows.append(UserRole(role="assessor"))
    db.session.flush()
    record_event(actor, "practical.registration.record", f"user:{assessor.id}", body=body, number=number,
                 expires_on=expires_on.isoformat(), clinics=sorted(c.id for c in clinics))
    db.session.commit()
    return registration


def verify_registration(actor, registration: AssessorRegistration) -> None:
    """An admin confirms they checked the registration with its body."""
    if not can_manage_assessors(actor):
        raise Forbidden("Only admins verify assessors' registrations.")
    if registration.user_id == actor.id:
        raise Forbidden("Another admin must verify your own registration.")
    if registration.verified_dt is not None:
        raise ServiceError("This registration is already verified.")
    registration.verified_dt, registration.verified_by_id = clock.now(), actor.id
    record_event(actor, "practical.registration.verify", f"user:{registration.user_id}",
                 body=registration.body, number=registration.number)
    db.session.commit()


# --- the learner's logbook ----------------------------------------------------------------

def _parse_areas(text: str, problems: dict) -> list[dict]:
    areas = []
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        match = AREA_LINE.match(raw.strip())
        if not match:
            problems["areas"] = (f"Write each area as 'area: depth in mm', e.g. 'cheeks: 1.0' "
                                 f"(not '{raw.strip()[:40]}').")
            return []
        depth = float(match["depth"])
        if not 0.1 <= depth <= MAX_DEPTH_MM:
            problems["areas"] = f"Depth for {match['area'].strip()} must be between 0.1 and {MAX_DEPTH_MM} mm."
            return []
        areas.append({"area": _clean(match["area"]), "depth_mm": depth})
    if not areas:
        problems["areas"] = "List the treated areas with the needle depth used on each."
    return areas


def log_case(learner: User, course: Course, fields: dict) -> LogbookCase:
    """Add a supervised treatment to the learner's logbook, waiting for an assessor."""
    if not can_log_cases(learner):
        raise Forbidden("Only learners keep a logbook.")
    practical = _require_practical(course)
    problems: dict[str, str] = {}
    try:
        treated_on = date.fromisoformat(str(fields.get("treated_on") or "").strip())
        if treated_on > _today():
            problems["treated_on"] = "The treatment date cannot be in the future."
    except ValueError:
        treated_on = None
        problems["treated_on"] = "Give the treatment date as YYYY-MM-DD."
    client_ref = str(fields.get("client_ref") or "").strip()
    if not (CLIENT_REF.match(client_ref) and re.search(r"\d", client_ref)):
        problems["client_ref"] = ("Use the clinic's anonymised client reference: letters and digits with at "
                                  "least one digit, no spaces, never a name (e.g. C-1042).")
    fitzpatrick = FITZPATRICK.get(str(fields.get("fitzpatrick") or "").strip().upper())
    if fitzpatrick is None:
        problems["fitzpatrick"] = "Choose the Fitzpatrick skin type (I to VI)."
    indication = str(fields.get("indication") or "").strip()
    allowed = practical["logbook"].get("indications") or []
    if not indication or (allowed and indication not in allowed):
        problems["indication"] = "Choose the indication treated" + (f" ({', '.join(allowed)})." if allowed else ".")
    areas = _parse_areas(str(fields.get("areas") or ""), problems)
    texts = {}
    for key, label, limit in (("device", "the device", 200), ("cartridge_lot", "the cartridge lot number", 100),
                              ("glide", "the glide medium used", 200), ("supervisor", "who supervised", 200)):
        texts[key] = _clean(fields.get(key))
        if not texts[key]:
            problems[key] = f"Give {label}."
        elif len(texts[key]) > limit:
            problems[key] = f"Keep {label} under {limit} characters."
    adverse = _clean(fields.get("adverse_event"))
    action = _clean(fields.get("adverse_action"))
    if adverse.lower() in ("none", "no", "nil", "-"):
        adverse = ""
    if adverse and not action:
        problems["adverse_action"] = "Say what was done about the adverse event."
    notes = str(fields.get("notes") or "").strip()
    if len(notes) > MAX_TEXT or len(adverse) > MAX_TEXT or len(action) > MAX_TEXT:
        problems["notes"] = f"Keep notes and adverse events under {MAX_TEXT} characters."
    if problems:
        raise CaseInvalid(problems)
    case = LogbookCase(
        user_id=learner.id, course_id=course.id, treated_on=treated_on, client_ref=client_ref,
        fitzpatrick=fitzpatrick, indication=indication, areas=areas, rescreen_done=bool(fields.get("rescreen_done")),
        consent_recorded=bool(fields.get("consent_recorded")), aftercare_given=bool(fields.get("aftercare_given")),
        adverse_event=adverse or None, adverse_action=action or None, notes=notes, status=CASE_SUBMITTED,
        created_dt=clock.now(), **texts,
    )
    db.session.add(case)
    db.session.flush()
    record_event(learner, "practical.case.log", f"case:{case.id}", course=course.slug, indication=indication)
    db.session.commit()
    return case


def cases_of(viewer, person: User, course: Course) -> list[LogbookCase]:
    """A person's logbook for a course, newest first, for those allowed to see it."""
    if not can_view_practical_record(viewer, person, registration_of(viewer)):
        raise NotFound("No such person.")
    return list(db.session.scalars(
        select(LogbookCase).where(LogbookCase.user_id == person.id, LogbookCase.course_id == course.id)
        .order_by(LogbookCase.treated_on.desc(), LogbookCase.id.desc())))


def get_case(viewer, case_id: int) -> LogbookCase:
    """A case the viewer may see; anything else is reported missing."""
    case = db.session.get(LogbookCase, case_id)
    if case is None or not can_view_practical_record(viewer, case.user, registration_of(viewer)):
        raise NotFound("No such case.")
    return case


# --- the assessor's work ------------------------------------------------------------------

def _assessor_registration(assessor, person) -> AssessorRegistration:
    registration = registration_of(assessor)
    if not can_assess(assessor, person, registration, _today()):
        if registration is not None and person is not None and person.id == assessor.id:
            raise Forbidden("You cannot assess your own practice.")
        raise Forbidden("Only a verified assessor attached to this person's clinic, with a registration "
                        "that has not expired, can do this.")
    assert registration is not None  # can_assess admits only a registered assessor
    return registration


def review_case(assessor, case: LogbookCase, verified: bool, comment: str) -> None:
    """Verify a logged case, or return it to the learner with a comment saying what to fix."""
    _assessor_registration(assessor, case.user)
    comment = str(comment or "").strip()
    if not verified and len(comment) < 5:
        raise ServiceError("Say what the learner should correct when returning a case.")
    if len(comment) > MAX_TEXT:
        raise ServiceError(f"Keep the comment under {MAX_TEXT} characters.")
    status = CASE_VERIFIED if verified else CASE_RETURNED
    # Guarded transition: two assessors reviewing at once cannot both succeed.
    result = execute_dml(db.session,
        update(LogbookCase).where(LogbookCase.id == case.id, LogbookCase.status == CASE_SUBMITTED)
        .values(status=status, reviewed_by_id=assessor.id, reviewed_dt=clock.now(), review_comment=comment or None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ServiceError("This case has already been reviewed.")
    record_event(assessor, f"practical.case.{'verify' if verified else 'return'}", f"case:{case.id}",
                 comment=comment)
    db.session.commit()
    db.session.refresh(case)


def assessor_queue(assessor) -> list[LogbookCase]:
    """Cases waiting for this assessor's verification, oldest first, in their clinics only."""
    registration = registration_of(assessor)
    if registration is None or not registration.clinic_ids:
        return []
    return list(db.session.scalars(
        select(LogbookCase).join(User, User.id == LogbookCase.user_id)
        .where(LogbookCase.status == CASE_SUBMITTED, User.clinic_id.in_(registration.clinic_ids),
               LogbookCase.user_id != assessor.id)
        .order_by(LogbookCase.created_dt, LogbookCase.id)))


def people_to_assess(assessor) -> list[User]:
    """Learners in the assessor's clinics (for choosing whom to observe), by name."""
    registration = registration_of(assessor)
    if registration is None or not registration.clinic_ids:
        return []
    return list(db.session.scalars(
        select(User).join(UserRole).where(User.clinic_id.in_(registration.clinic_ids), UserRole.role == "learner",
                                           User.id != assessor.id, User.is_enabled.is_(True)).order_by(User.name)))


def competency(course: Course, competency_id: str) -> dict | None:
    return next((c for c in (course.practical or {}).get("competencies", []) if c["id"] == competency_id), None)


def sign_dops(assessor, person: User, course: Course, competency_id: str, ratings: dict, overall: str,
              feedback: str, case: LogbookCase | None = None, final: bool = False) -> DopsObservation:
    """Record and sign a DOPS: a rating for every checklist step, an overall judgement and feedback.

    Signed means locked. A final sign-off of "competent" or "competent with supervision" issues the
    certificate when the quizzes and logbook are complete too.
    """
    _require_practical(course)
    registration = _assessor_registration(assessor, person)
    comp = competency(course, competency_id)
    if comp is None:
        raise ServiceError("Choose one of the course's competencies.")
    steps = [s["id"] for s in comp["checklist"]]
    missing = [s for s in steps if ratings.get(s) not in RATINGS]
    if missing:
        raise ServiceError(f"Rate every step of the checklist ({len(missing)} not rated).")
    if overall not in RATINGS:
        raise ServiceError("Give an overall judgement.")
    feedback = str(feedback or "").strip()
    if len(feedback) < 10:
        raise ServiceError("Write feedback for the learner (at least a sentence).")
    if len(feedback) > MAX_TEXT:
        raise ServiceError(f"Keep the feedback under {MAX_TEXT} characters.")
    if case is not None and (case.user_id != person.id or case.course_id != course.id):
        raise ServiceError("That case is not in this person's logbook for this course.")
    observation = DopsObservation(
        user_id=person.id, course_id=course.id, competency_id=competency_id, case_id=case.id if case else None,
        assessor_id=assessor.id, ratings={s: ratings[s] for s in steps}, overall=overall, feedback=feedback,
        is_final=bool(final), assessor_name=assessor.name, registration_body=registration.body,
        registration_number=registration.number, signed_dt=clock.now())
    db.session.add(observation)
    db.session.flush()
    record_event(assessor, "practical.dops.sign", f"dops:{observation.id}", person=person.id, course=course.slug,
                 overall=overall, final=bool(final), registration=f"{registration.body} {registration.number}")
    # The same issuing path as a passed quiz: a final sign-off may complete the course, and any
    # observation may be the refresher a renewal waits for.
    from trainer.services.certificates import issue_certificate_if_complete
    issue_certificate_if_complete(person, course)
    db.session.commit()
    return observation


# --- progress and certification -----------------------------------------------------------

def practical_progress(user_id: int, course: Course, since: datetime | None = None) -> PracticalProgress:
    """Counts from the logbook and the signed DOPS, for the pure rules in certification/practical.py."""
    verified = (LogbookCase.user_id == user_id, LogbookCase.course_id == course.id,
                LogbookCase.status == CASE_VERIFIED)
    count, = db.session.execute(select(func.count(LogbookCase.id)).where(*verified)).one()
    indications = frozenset(db.session.scalars(select(LogbookCase.indication).where(*verified).distinct()))
    observed = db.session.scalar(
        select(func.count(distinct(DopsObservation.case_id))).join(LogbookCase,
                                                                   LogbookCase.id == DopsObservation.case_id)
        .where(*verified, DopsObservation.user_id == user_id))
    final = db.session.scalar(
        select(DopsObservation.overall).where(DopsObservation.user_id == user_id,
                                              DopsObservation.course_id == course.id,
                                              DopsObservation.is_final.is_(True))
        .order_by(DopsObservation.signed_dt.desc(), DopsObservation.id.desc()).limit(1))
    observed_since: int | None = 0
    if since is not None:
        observed_since = db.session.scalar(
            select(func.count(DopsObservation.id)).where(DopsObservation.user_id == user_id,
                                                         DopsObservation.course_id == course.id,
                                                         DopsObservation.signed_dt > since))
    return PracticalProgress(verified_cases=count, indications=indications, observed_cases=observed or 0,
                             final_signoff=final, observed_since=observed_since or 0)


def practical_requirements_met(user, course: Course, since: datetime | None = None) -> bool:
    """True when the course needs no practical or the person's record meets it (renewal when `since`)."""
    if not course.practical:
        return True
    return requirements_met(course.practical, practical_progress(user.id, course, since), renewal=since is not None)


def signoff_for_certificate(certificate) -> DopsObservation | None:
    """The final sign-off a certificate rests on: the newest passing one signed by its issue."""
    if not certificate.course.practical:
        return None
    return db.session.scalar(
        select(DopsObservation).where(DopsObservation.user_id == certificate.user_id,
                                      DopsObservation.course_id == certificate.course_id,
                                      DopsObservation.is_final.is_(True),
                                      DopsObservation.overall.in_(("competent", "competent_with_supervision")),
                                      DopsObservation.signed_dt <= certificate.issued_dt)
        .order_by(DopsObservation.signed_dt.desc(), DopsObservation.id.desc()).limit(1))


def signoff_facts(certificate) -> dict | None:
    """What a certificate states about its practical sign-off (None when the course has no practical)."""
    signoff = signoff_for_certificate(certificate)
    if signoff is None:
        return None
    return {"assessor": signoff.assessor_name,
            "registration": f"{signoff.registration_body} {signoff.registration_number}",
            "signed": signoff.signed_dt.date().isoformat(), "judgement": signoff.overall,
            "requires_supervision": signoff.requires_supervision}


def signoff_sentence(facts: dict | None) -> str | None:
    """One line for the certificate page and PDF."""
    if not facts:
        return None
    sentence = (f"Practical competence signed off by {facts['assessor']} ({facts['registration']}) "
                f"on {facts['signed']}")
    return sentence + (": requires supervision." if facts["requires_supervision"] else ".")


#: Register filter values for practical progress.
PRACTICAL_FILTERS = ("in progress", "awaiting sign-off", "signed off")


def practical_progress_many(user_ids: list[int], course: Course) -> dict[int, PracticalProgress]:
    """user id -> progress, in three grouped queries whatever the number of people (for the register)."""
    if not user_ids or not course.practical:
        return {}
    cases: dict[int, int] = {}
    indications: dict[int, set[str]] = {}
    for user_id, indication, count in db.session.execute(
            select(LogbookCase.user_id, LogbookCase.indication, func.count())
            .where(LogbookCase.user_id.in_(user_ids), LogbookCase.course_id == course.id,
                   LogbookCase.status == CASE_VERIFIED)
            .group_by(LogbookCase.user_id, LogbookCase.indication)):
        cases[user_id] = cases.get(user_id, 0) + count
        indications.setdefault(user_id, set()).add(indication)
    observed = dict(db.session.execute(
        select(DopsObservation.user_id, func.count(distinct(DopsObservation.case_id)))
        .join(LogbookCase, LogbookCase.id == DopsObservation.case_id)
        .where(DopsObservation.user_id.in_(user_ids), DopsObservation.course_id == course.id,
               LogbookCase.status == CASE_VERIFIED)
        .group_by(DopsObservation.user_id)).all())
    finals = {}
    for user_id, overall in db.session.execute(
            select(DopsObservation.user_id, DopsObservation.overall)
            .where(DopsObservation.user_id.in_(user_ids), DopsObservation.course_id == course.id,
                   DopsObservation.is_final.is_(True))
            .order_by(DopsObservation.signed_dt, DopsObservation.id)):
        finals[user_id] = overall  # the newest one wins
    return {uid: PracticalProgress(verified_cases=cases.get(uid, 0), indications=frozenset(indications.get(uid, ())),
                                   observed_cases=observed.get(uid, 0), final_signoff=finals.get(uid))
            for uid in user_ids}


def register_practical(rows, course: Course) -> dict[int, tuple[str, str]]:
    """person id -> (filter value, register cell) such as "theory passed, practical in progress (3 of 6 cases)"."""
    if not course.practical:
        return {}
    progress = practical_progress_many([row.person.id for row in rows], course)
    cells = {}
    for row in rows:
        p = progress[row.person.id]
        if requirements_met(course.practical, p):
            kind = "signed off"
        elif (p.verified_cases >= course.practical["logbook"]["min_cases"]
              and len(p.indications) >= course.practical["logbook"]["min_indications"]
              and p.observed_cases >= course.practical["logbook"]["min_observed"]):
            kind = "awaiting sign-off"
        else:
            kind = "in progress"
        text = progress_summary(course.practical, p)
        theory_passed = bool(row.modules) and all(m.status == PASSED for m in row.modules)
        if theory_passed and kind != "signed off":
            text = f"theory passed, {text}"
        cells[row.person.id] = (kind, text)
    return cells
