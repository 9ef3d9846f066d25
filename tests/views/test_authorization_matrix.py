"""Every route x role x own/foreign clinic: who gets what. A new route without an entry fails here."""
import pytest

from tests.conftest import TINY_COURSE
from tests.factories import (
    PASSWORD,
    case_fields,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    module_of,
    practical_course_dir,
    take_attempt,
    tiny_jpeg,
)
from trainer.extensions import db
from trainer.models import Certificate, PasswordReset
from trainer.services.api_tokens import create_token

ROLES = ["anonymous", "learner", "other_learner", "manager", "foreign_manager", "trainer", "admin"]


@pytest.fixture
def world(app):
    course = import_course(TINY_COURSE)
    home, away = make_clinic("Home Clinic"), make_clinic("Away Clinic")
    people = {
        "learner": make_user("learner", clinic=home),
        "other_learner": make_user("learner", clinic=home),
        "manager": make_user("manager", clinic=home),
        "foreign_manager": make_user("manager", clinic=away),
        "trainer": make_user("trainer"),
        "admin": make_user("admin"),
    }
    subject = people["learner"]
    for module in course.modules:
        attempt = take_attempt(subject, module)
    cert = db.session.query(Certificate).one()
    token, _ = create_token(people["manager"], "Matrix")
    from trainer.services.staff import invite_staff
    invitation, _ = invite_staff(people["manager"], home.id, "ivy@example.org", "Ivy Invitee", ["learner"])
    from trainer.services.jobs import request_job, run_job
    job_id = request_job(people["manager"], "certificates_zip", home.id)
    db.session.commit()
    run_job(job_id)  # done, with its file
    return {"job_id": job_id, "invitation": invitation, "token": token, "people": people, "attempt": attempt,
            "cert": cert, "subject": subject, "course": course,
            "module": module_of(course, "basics"), "clinic": home}


# endpoint -> (method, url(world), {role: expected status})
def _urls(w):
    a, c, s, m = w["attempt"], w["cert"], w["subject"], w["module"]
    return {
        "auth.index": ("GET", "/", dict.fromkeys(ROLES, 302)),
        "auth.login": ("GET", "/login", {**dict.fromkeys(ROLES, 302), "anonymous": 200}),
        "auth.logout": ("POST", "/logout", {**dict.fromkeys(ROLES, 302)}),
        "auth.account": ("GET", "/account", {**dict.fromkeys(ROLES, 200), "anonymous": 302}),
        "auth.end_other_sessions": ("POST", "/account/sessions/end", dict.fromkeys(ROLES, 302)),
        "learn.home": ("GET", "/learn", {"anonymous": 302, "learner": 200, "other_learner": 200, "manager": 403,
                                         "foreign_manager": 403, "trainer": 403, "admin": 403}),
        "learn.module": ("GET", f"/learn/tiny-course/{m.slug}", {"anonymous": 302, "learner": 200, "other_learner": 200,
                                                                 "manager": 403, "foreign_manager": 403,
                                                                 "trainer": 403, "admin": 403}),
        "learn.start": ("POST", f"/learn/tiny-course/{m.slug}/attempts",
                        {"anonymous": 302, "learner": 302, "other_learner": 302,
                                                                         "manager": 403, "foreign_manager": 403,
                                                                          "trainer": 403, "admin": 403}),
        "learn.attempt": ("GET", f"/attempts/{a.id}", {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 302}),
        "learn.save_and_continue": ("POST", f"/attempts/{a.id}",
                                    {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 302}),
        "learn.save_answer": ("POST", f"/attempts/{a.id}/answers/1",
                              {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 409}),
        "learn.submit": ("POST", f"/attempts/{a.id}/submit",
                         {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 302}),
        "learn.result": ("GET", f"/attempts/{a.id}/result",
                         {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 200,
                                                             "manager": 200, "trainer": 200, "admin": 200}),
        "learn.certificate": ("GET", f"/certificates/{c.code}",
                              {**dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 200,
                                                                  "manager": 200, "trainer": 200, "admin": 200}),
        "learn.course_media": ("GET", "/courses/tiny-course/media/layers.svg",
                               {**dict.fromkeys(ROLES, 200), "anonymous": 302}),
        "manage.register": ("GET", "/manage/", {"anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200,
                                                "foreign_manager": 200, "trainer": 403, "admin": 200}),
        "manage.person": ("GET", f"/manage/people/{s.id}",
                          {"anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200,
                                                             "foreign_manager": 404, "trainer": 200, "admin": 200}),
        "manage.assign": ("POST", "/manage/assignments",
                          {"anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302,
                                                          "foreign_manager": 302, "trainer": 403, "admin": 302}),
        "manage.resend_invite": ("POST", f"/manage/invitations/{w['invitation'].id}/resend", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200, "foreign_manager": 404,
            "trainer": 403, "admin": 200}),
        "manage.revoke_invite": ("POST", f"/manage/invitations/{w['invitation'].id}/revoke", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 403, "admin": 302}),
        "manage.clinic_time_zone": ("POST", "/manage/time-zone", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 302,
            "trainer": 403, "admin": 302}),
        "manage.person_time_zone": ("POST", f"/manage/people/{s.id}/time-zone", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 403, "admin": 302}),
        "manage.accommodations": ("POST", f"/manage/people/{s.id}/accommodations", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 302, "admin": 302}),
        "manage.activation": ("POST", f"/manage/people/{w['people']['other_learner'].id}/active", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 403, "admin": 302}),
        "manage.reinstate": ("POST", f"/manage/certificates/{c.code}/reinstate", {**dict.fromkeys(ROLES, 403),
                                                                                  "anonymous": 302, "admin": 302}),
        "manage.revoke": ("POST", f"/manage/certificates/{c.code}/revoke",
                          {**dict.fromkeys(ROLES, 403), "anonymous": 302,
                                                                             "trainer": 302, "admin": 302}),
        "manage.invite": ("GET", "/manage/invitations",
                          {"anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200,
                                                         "foreign_manager": 200, "trainer": 403, "admin": 200}),
        "auth.accept_invitation": ("GET", "/invitations/no-such-token", dict.fromkeys(ROLES, 404)),
        "auth.forgot_password": ("GET", "/password/forgot", dict.fromkeys(ROLES, 200)),
        "auth.reset_password": ("GET", "/password/reset/no-such-token", dict.fromkeys(ROLES, 404)),
        # Single sign-on is not configured here: its routes do not exist (tests/security/test_sso.py covers them).
        "auth.sso_start": ("GET", "/login/sso", dict.fromkeys(ROLES, 404)),
        "auth.sso_callback": ("GET", "/login/sso/callback", dict.fromkeys(ROLES, 404)),
        "manage.new_person": ("GET", "/manage/people/new", {"anonymous": 302, "learner": 403, "other_learner": 403,
                                                            "manager": 200, "foreign_manager": 200,
                                                            "trainer": 403, "admin": 200}),
        "manage.edit_person": ("GET", f"/manage/people/{w['people']['other_learner'].id}/edit", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200, "foreign_manager": 404,
            "trainer": 403, "admin": 200}),
        "manage.end_sessions_view": ("POST", f"/manage/people/{w['people']['other_learner'].id}/sessions/end", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 403, "admin": 302}),
        "manage.import_staff": ("GET", "/manage/people/import", {"anonymous": 302, "learner": 403, "other_learner": 403,
                                                                 "manager": 200, "foreign_manager": 200, "trainer": 403,
                                                                 "admin": 200}),
        "manage.confirm_import": ("POST", "/manage/people/import/confirm", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 400, "foreign_manager": 400,
            "trainer": 403, "admin": 400}),
        "manage.import_template": ("GET", "/manage/people/import/template.csv", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 200, "foreign_manager": 200,
            "trainer": 403, "admin": 200}),
        "manage.password_reset": ("POST", f"/manage/people/{w['people']['other_learner'].id}/password-reset", {
            "anonymous": 302, "learner": 403, "other_learner": 403, "manager": 302, "foreign_manager": 404,
            "trainer": 403, "admin": 302}),
        "author.index": ("GET", "/author/",
                         {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.module": ("GET", f"/author/modules/{m.id}",
                          {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.review_queue": ("GET", "/author/review",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "admin.index": ("GET", "/admin/", {**dict.fromkeys(ROLES, 403), "anonymous": 302, "admin": 200}),
        "admin.create_clinic_view": ("POST", "/admin/clinics",
                                     {**dict.fromkeys(ROLES, 403), "anonymous": 302, "admin": 400}),
        "admin.rename_clinic_view": ("POST", f"/admin/clinics/{w['clinic'].id}", {**dict.fromkeys(ROLES, 403),
                                                                                  "anonymous": 302, "admin": 400}),
        "admin.archive_clinic_view": ("POST", f"/admin/clinics/{w['clinic'].id}/archived", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "admin": 302}),
        "admin.audit": ("GET", "/admin/audit", {**dict.fromkeys(ROLES, 403), "anonymous": 302, "admin": 200}),
        "admin.outbox": ("GET", "/admin/outbox", {**dict.fromkeys(ROLES, 403), "anonymous": 302, "admin": 200}),
        "documents.certificate_pdf": ("GET", f"/certificates/{c.code}.pdf",
                                      {**dict.fromkeys(ROLES, 404), "anonymous": 302,
                                      "learner": 200, "manager": 200, "trainer": 200, "admin": 200}),
        "documents.certificates_archive": ("GET", "/manage/certificates.zip", {"anonymous": 302, "learner": 403,
                                           "other_learner": 403, "manager": 200, "foreign_manager": 200,
                                                                               "trainer": 403, "admin": 200}),
        "documents.register_csv_export": ("GET", "/manage/register.csv",
                                          {"anonymous": 302, "learner": 403, "other_learner": 403,
                                          "manager": 200, "foreign_manager": 200, "trainer": 403, "admin": 200}),
        "documents.register_xlsx_export": ("GET", "/manage/register.xlsx", {"anonymous": 302, "learner": 403,
                                           "other_learner": 403, "manager": 200, "foreign_manager": 200,
                                                                            "trainer": 403, "admin": 200}),
        "api.register": ("GET", "/api/v1/register", dict.fromkeys(ROLES, 401)),
        "api.openapi": ("GET", "/api/v1/openapi.yaml", dict.fromkeys(ROLES, 200)),
        "tokens.index": ("GET", "/manage/tokens", {**dict.fromkeys(ROLES, 403), "anonymous": 302, "manager": 200,
                                                   "foreign_manager": 200}),
        "tokens.create": ("POST", "/manage/tokens", {**dict.fromkeys(ROLES, 403), "anonymous": 302, "manager": 400,
                                                     "foreign_manager": 400}),
        "tokens.revoke": ("POST", f"/manage/tokens/{w['token'].id}/revoke", {**dict.fromkeys(ROLES, 403),
                                                                              "anonymous": 302,
                                                                             "manager": 302, "foreign_manager": 404}),
        "bank_files.index": ("GET", "/author/files/",
                             {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "bank_files.upload_course": ("POST", "/author/files/course", {**dict.fromkeys(ROLES, 403), "anonymous": 302,
                                                                      "trainer": 400, "admin": 400}),
        "bank_files.upload_bank": ("POST", "/author/files/bank/gift", {**dict.fromkeys(ROLES, 403), "anonymous": 302,
                                                                       "trainer": 400, "admin": 400}),
        "bank_files.download_course": ("GET", f"/author/files/courses/{w['course'].id}.yaml.zip", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "bank_files.download_module": ("GET", f"/author/files/modules/{m.id}.csv", {**dict.fromkeys(ROLES, 403),
                                                                                   "anonymous": 302,
                                                                                    "trainer": 200, "admin": 200}),
        "analysis.module": ("GET", f"/author/analysis/modules/{m.id}", {**dict.fromkeys(ROLES, 403), "anonymous": 302,
                                                                        "trainer": 200, "admin": 200}),
        "analysis.module_csv": ("GET", f"/author/analysis/modules/{m.id}/statistics.csv", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.edit_content": ("GET", f"/author/modules/{m.id}/content",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.save_content": ("POST", f"/author/modules/{m.id}/content",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 400, "admin": 400}),
        "author.edit_quiz": ("GET", f"/author/modules/{m.id}/quiz",
                             {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.save_quiz": ("POST", f"/author/modules/{m.id}/quiz",
                             {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 400, "admin": 400}),
        "author.new_question": ("GET", f"/author/modules/{m.id}/questions/new",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.add_question": ("POST", f"/author/modules/{m.id}/questions",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 400, "admin": 400}),
        "author.edit_question": ("GET", f"/author/questions/{m.questions[0].id}",
                                 {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.save_question": ("POST", f"/author/questions/{m.questions[0].id}",
                                 {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 400, "admin": 400}),
        "author.publish_question": ("POST", f"/author/questions/{m.questions[0].id}/publish",
                                    {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 302, "admin": 302}),
        "author.retire_question": ("POST", f"/author/questions/{m.questions[0].id}/retire",
                                   {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 302, "admin": 302}),
        "author.unretire_question": ("POST", f"/author/questions/{m.questions[0].id}/unretire",
                                     {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 302, "admin": 302}),
        "author.move_question": ("POST", f"/author/questions/{m.questions[0].id}/move/down",
                                 {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 302, "admin": 302}),
        "author.question_history": ("GET", f"/author/questions/{m.questions[0].id}/history",
                                    {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.preview_quiz": ("GET", f"/author/modules/{m.id}/preview",
                                {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 200, "admin": 200}),
        "author.grade_preview": ("POST", f"/author/modules/{m.id}/preview",
                                 {**dict.fromkeys(ROLES, 403), "anonymous": 302, "trainer": 400, "admin": 400}),
        "public.verify": ("GET", f"/verify/{c.code}", dict.fromkeys(ROLES, 200)),
        "public.verify_form": ("GET", "/verify", dict.fromkeys(ROLES, 200)),
        "public.healthz": ("GET", "/healthz", dict.fromkeys(ROLES, 200)),
        "api.certificate": ("GET", f"/api/v1/certificates/{c.code}", dict.fromkeys(ROLES, 200)),
        "records.training_record_pdf": ("GET", f"/people/{s.id}/training-record.pdf", {
            **dict.fromkeys(ROLES, 404), "anonymous": 302, "learner": 200, "manager": 200, "trainer": 200,
            "admin": 200}),
        "records.clinic_pack_zip": ("GET", f"/manage/clinic-pack.zip?clinic={w['clinic'].id}", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "manager": 200, "foreign_manager": 200, "admin": 200}),
        # Background jobs: starting one (managers of their clinic, admins); its page, status and file for the
        # requester and whoever manages its clinic.
        "documents.certificates_archive_job": ("POST", f"/manage/certificates.zip?clinic={w['clinic'].id}", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "manager": 303, "foreign_manager": 303, "admin": 303}),
        "records.clinic_pack_job": ("POST", f"/manage/clinic-pack.zip?clinic={w['clinic'].id}", {
            **dict.fromkeys(ROLES, 403), "anonymous": 302, "manager": 303, "foreign_manager": 303, "admin": 303}),
        "jobs.job_page": ("GET", f"/jobs/{w['job_id']}", {**dict.fromkeys(ROLES, 404), "anonymous": 302,
                                                          "manager": 200, "admin": 200}),
        "jobs.job_status_json": ("GET", f"/jobs/{w['job_id']}.json", {**dict.fromkeys(ROLES, 404), "anonymous": 302,
                                                                      "manager": 200, "admin": 200}),
        "jobs.download": ("GET", f"/jobs/{w['job_id']}/download", {**dict.fromkeys(ROLES, 404), "anonymous": 302,
                                                                   "manager": 200, "admin": 200}),
    }


def test_every_route_has_an_entry(app, world):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(_urls(world)) | PRACTICAL_ENDPOINTS


@pytest.mark.parametrize("role", ROLES)
def test_matrix(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        user = world["people"][role]
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    for endpoint, (method, url, expected) in _urls(world).items():
        if endpoint == "auth.logout":
            continue  # signing out would end the session for the rest of the loop
        response = client.open(url, method=method)
        assert response.status_code == expected[role], f"{role} {method} {url} ({endpoint})"


def test_foreign_manager_sees_no_one_from_another_clinic(app, world):
    client = app.test_client()
    manager = world["people"]["foreign_manager"]
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    html = client.get("/manage/").get_data(as_text=True)
    assert world["subject"].name not in html and "Away Clinic" in html
    assert client.get(f"/manage/?clinic={world['clinic'].id}").get_data(as_text=True).count(world["subject"].name) == 0


# Practical competence (logbook, assessor sign-off, photos): the same people plus an assessor
# attached to the home clinic and one attached to another clinic.
PRACTICAL_ROLES = ROLES + ["assessor", "foreign_assessor"]
PRACTICAL_ENDPOINTS = {"practical.logbook", "practical.new_case", "practical.case", "practical.review",
                       "practical.queue", "practical.dops", "practical.assessors", "practical.verify_registration",
                       "practical.add_photo", "practical.photo"}


@pytest.fixture
def practical_world(app, tmp_path):
    from trainer.services.case_photos import add_photo
    from trainer.services.practical import log_case, registration_of

    app.config["CASE_PHOTO_DIR"] = str(tmp_path / "photos")
    course = import_course(practical_course_dir(tmp_path))
    home, away = make_clinic("Home Clinic"), make_clinic("Away Clinic")
    people = {
        "learner": make_user("learner", clinic=home),
        "other_learner": make_user("learner", clinic=home),
        "manager": make_user("manager", clinic=home),
        "foreign_manager": make_user("manager", clinic=away),
        "trainer": make_user("trainer"),
        "admin": make_user("admin"),
        "assessor": make_assessor([home]),
        "foreign_assessor": make_assessor([away]),
    }
    case = log_case(people["learner"], course, case_fields())
    photo = add_photo(people["learner"], case, tiny_jpeg(), True, tmp_path / "photos")
    return {"people": people, "course": course, "case": case, "photo": photo,
            "registration": registration_of(people["assessor"])}


def _practical_urls(w):
    s, case, slug = w["people"]["learner"], w["case"], w["course"].slug
    only = lambda allowed, others=403: {**dict.fromkeys(PRACTICAL_ROLES, others), "anonymous": 302, **allowed}  # noqa: E731
    record = only({"learner": 200, "manager": 200, "admin": 200, "assessor": 200}, others=404)
    return {
        "practical.logbook": ("GET", f"/practical/{slug}/people/{s.id}", record),
        "practical.case": ("GET", f"/practical/cases/{case.id}", record),
        "practical.photo": ("GET", f"/practical/photos/{w['photo'].id}", record),
        "practical.new_case": ("GET", f"/practical/{slug}/cases/new", only({"learner": 200, "other_learner": 200})),
        "practical.add_photo": ("POST", f"/practical/cases/{case.id}/photos",
                                only({"learner": 302, "other_learner": 404})),
        "practical.review": ("POST", f"/practical/cases/{case.id}/review",
                             only({"assessor": 400, "foreign_assessor": 404})),
        "practical.queue": ("GET", "/practical/queue", only({"assessor": 200, "foreign_assessor": 200})),
        "practical.dops": ("GET", f"/practical/{slug}/people/{s.id}/dops",
                           only({"assessor": 200, "foreign_assessor": 404})),
        "practical.assessors": ("GET", "/admin/assessors", only({"admin": 200})),
        "practical.verify_registration": ("POST", f"/admin/assessors/{w['registration'].id}/verify",
                                          only({"admin": 302})),
    }


def test_practical_matrix_covers_the_practical_routes(app, practical_world):
    assert set(_practical_urls(practical_world)) == PRACTICAL_ENDPOINTS


@pytest.mark.parametrize("role", PRACTICAL_ROLES)
def test_practical_matrix(app, practical_world, role):
    client = app.test_client()
    if role != "anonymous":
        user = practical_world["people"][role]
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    for endpoint, (method, url, expected) in _practical_urls(practical_world).items():
        response = client.open(url, method=method)
        assert response.status_code == expected[role], f"{role} {method} {url} ({endpoint})"


# Acting on accounts: (actor, target, endpoint) -> status. A manager acts only on their clinic's
# accounts with no higher role, and never on themself; a refusal of that kind is a 403.
def _account_rows(w, extra):
    p = {**w["people"], **extra}
    acc, act, rst = "manage.accommodations", "manage.activation", "manage.password_reset"
    return [
        ("manager", "learner", acc, 302), ("manager", "learner", act, 302),
        ("manager", "fellow_manager", acc, 302), ("manager", "fellow_manager", act, 302),
        ("manager", "clinic_admin", acc, 403), ("manager", "clinic_admin", act, 403),
        ("manager", "clinic_trainer", acc, 403), ("manager", "clinic_trainer", act, 403),
        ("manager", "manager", acc, 403), ("manager", "manager", act, 403),
        ("foreign_manager", "clinic_admin", acc, 404), ("foreign_manager", "clinic_admin", act, 404),
        ("trainer", "clinic_admin", acc, 403), ("trainer", "trainer", acc, 403), ("trainer", "learner", acc, 302),
        ("admin", "clinic_admin", acc, 302), ("admin", "clinic_admin", act, 302), ("admin", "admin", acc, 403),
        ("manager", "learner", rst, 302), ("manager", "fellow_manager", rst, 302),
        ("manager", "clinic_admin", rst, 403),
        ("manager", "clinic_trainer", rst, 403), ("manager", "manager", rst, 403),
        ("foreign_manager", "learner", rst, 404),
        ("trainer", "learner", rst, 403), ("admin", "clinic_admin", rst, 302), ("admin", "admin", rst, 403),
    ], p


@pytest.mark.parametrize("row", range(27))
def test_account_actions_respect_rank_and_never_oneself(app, world, row):
    home = world["clinic"]
    extra = {"fellow_manager": make_user("manager", clinic=home), "clinic_admin": make_user("admin", clinic=home),
             "clinic_trainer": make_user("trainer", clinic=home)}
    rows, people = _account_rows(world, extra)
    actor, target, endpoint, expected = rows[row]
    person = people[target]
    client = app.test_client()
    assert client.post("/login", data={"email": people[actor].email, "password": PASSWORD}).status_code == 302
    url = {"manage.accommodations": f"/manage/people/{person.id}/accommodations",
           "manage.activation": f"/manage/people/{person.id}/active",
           "manage.password_reset": f"/manage/people/{person.id}/password-reset"}[endpoint]
    data = ({"time_multiplier": "2.0", "extra_attempts": "10"} if endpoint == "manage.accommodations"
            else {"active": "0"})
    assert client.post(url, data=data).status_code == expected, rows[row]
    db.session.expire_all()
    changed = {"manage.accommodations": lambda: person.time_multiplier == 2.0,
               "manage.activation": lambda: not person.is_enabled,
               "manage.password_reset":
                   lambda: db.session.query(PasswordReset).filter_by(user_id=person.id).count() == 1,
               }[endpoint]()
    assert changed == (expected == 302), rows[row]
