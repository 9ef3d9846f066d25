"""Every main page of every role at phone widths (390 and 320 px): no page-level horizontal overflow
(WCAG 1.4.10 reflow) and axe-core's WCAG 2.2 AA rules report no violation of any impact.

The app here has the shipped microneedling course (real module text, tables and long citations) and a
clinic with staff at every stage. axe-core comes from npm (`make test` installs it into .cache/axe);
nothing is downloaded at run time.
"""
from __future__ import annotations

import random
import re
import threading
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_app
from tests.factories import (
    PASSWORD,
    FormData,
    correct_form,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    wrong_form,
)
from trainer.extensions import db

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (390, 320)
COURSE = "microneedling-practitioner"


def _answer_and_submit(user, module, right_share: float, seed: int):
    from trainer.services.attempts import save_answer, start_attempt, submit_attempt

    attempt = start_attempt(user, module, rng=random.Random(seed))
    questions = sorted(attempt.questions, key=lambda a: a.position)
    for i, aq in enumerate(questions):
        form = correct_form(aq) if i < right_share * len(questions) else wrong_form(aq)
        save_answer(user, attempt.id, aq.position, FormData(form), seq=1)
    return submit_attempt(user, attempt.id)


def _more_staff(clinic, count: int) -> None:
    """Enough people for the register to have pages (one password hash: bcrypt per person is slow)."""
    from trainer.models import User, UserRole
    from trainer.services.accounts import hash_password

    password_hash = hash_password(PASSWORD)
    db.session.add_all(User(email=f"staff{n}@harbour.example", name=f"Staff Member {n:02d}", clinic_id=clinic.id,
                            password_hash=password_hash, role_rows=[UserRole(role="learner")]) for n in range(count))
    db.session.commit()


def _build_world() -> SimpleNamespace:
    """A clinic with a certified learner, a failed one, one in progress, a revoked certificate, an invitation."""
    from trainer.models import Certificate
    from trainer.services.certificates import revoke_certificate
    from trainer.services.demo import complete_practical_record
    from trainer.services.staff import assign_course, invite_staff

    course = import_course(ROOT / "question_banks" / "microneedling")
    modules = list(course.modules)
    clinic = make_clinic("Harbour Skin Clinic")
    manager = make_user("manager", "learner", clinic=clinic, name="Morgan Reyes")
    learner = make_user("learner", clinic=clinic, name="Pat Okafor")
    failed = make_user("learner", clinic=clinic, name="Ana Silva")
    revoked = make_user("learner", clinic=clinic, name="Ben Carter")
    make_user("learner", clinic=clinic, name="Chloe Martin-Featherstonehaugh")
    _more_staff(clinic, 30)
    trainer = make_user("trainer", name="Terry Trainer")
    admin = make_user("admin", name="Alex Admin")
    # The shipped course certifies on its quizzes and a signed practical record.
    assessor = make_assessor([clinic])
    for person in (learner, revoked):
        complete_practical_record(course, assessor, person)
    for n, module in enumerate(modules):
        _answer_and_submit(learner, module, 1.0, seed=n)
        _answer_and_submit(revoked, module, 1.0, seed=10 + n)
    passed_attempt = _answer_and_submit(manager, modules[0], 1.0, seed=30)
    failed_attempt = _answer_and_submit(failed, modules[1], 0.4, seed=20)
    certificate = db.session.query(Certificate).filter_by(user_id=learner.id).one()
    to_revoke = db.session.query(Certificate).filter_by(user_id=revoked.id).one()
    revoke_certificate(admin, to_revoke, "Trained on a device the clinic no longer uses.")
    assign_course(manager, course, [failed, manager], date.today() + timedelta(days=30))
    _, token = invite_staff(manager, clinic.id, "new.starter@harbour.example", "New Starter", ["learner"])
    from trainer.services.password_reset import operator_reset_link
    reset_path = urlsplit(operator_reset_link(failed.email)).path
    from trainer.services.jobs import request_job, run_job
    job_id = request_job(manager, "certificates_zip", clinic.id, {"file_name": "certificates-harbour-clinic.zip"})
    db.session.commit()
    run_job(job_id)  # done: the page shows the full bar and Download
    return SimpleNamespace(
        course=course, modules=[(m.id, m.slug) for m in modules], question_id=modules[1].questions[0].id,
        manager=manager.email, learner=learner.email, failed=failed.email, trainer=trainer.email, admin=admin.email,
        failed_id=failed.id, learner_id=learner.id, revoked_id=revoked.id, code=certificate.code,
        revoked_code=to_revoke.code, passed_attempt=passed_attempt.id, failed_attempt=failed_attempt.id,
        invitation=token, reset_path=reset_path, job_id=job_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory, browser):
    """The app with the shipped course on its own SQLite file, served on a free port of 127.0.0.1."""
    from werkzeug.serving import make_server

    if not AXE.exists():
        pytest.skip(f"axe-core is missing at {AXE}: run `make test` (npm install --prefix .cache/axe axe-core@4)")
    tmp = tmp_path_factory.mktemp("phone")
    # Single sign-on configured (its provider is never contacted here): the sign-in page shows its button.
    app = make_app(f"sqlite:///{tmp / 'phone.db'}", WTF_CSRF_ENABLED=True, SERVER_NAME=None,
                   OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="phone", OIDC_CLIENT_SECRET="phone",
                   OIDC_PROVIDER_NAME="Harbour Skin Group account")
    with app.app_context():
        db.create_all()
        data = _build_world()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="phone-server", daemon=True)
    thread.start()
    data.base = f"http://127.0.0.1:{server.server_port}"
    contexts = {}

    def signed_in(email: str | None):
        if email not in contexts:
            context = browser.new_context(base_url=data.base, viewport={"width": 390, "height": 844})
            context.set_default_timeout(10_000)
            if email:
                page = context.new_page()
                page.goto("/login")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                assert "/login" not in page.url, f"{email} could not sign in"
                page.close()
            contexts[email] = context
        return contexts[email]

    data.signed_in = signed_in
    yield data
    for context in contexts.values():
        context.close()
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def _module_id(world, slug: str) -> int:
    return next(i for i, s in world.modules if s == slug)


# (name, who, path or a function of the world giving the path); `who` is a world attribute or None
PAGES = [
    ("login", None, "/login"),
    ("single sign-on not completed", None, "/login/sso/callback?state=stale&code=x"),
    ("verify valid", None, lambda w: f"/verify/{w.code}"),
    ("verify revoked", None, lambda w: f"/verify/{w.revoked_code}"),
    ("verify unknown", None, "/verify/NOSUCHCODE"),
    ("verify form", None, "/verify"),
    ("verify form empty", None, "/verify?code=+"),
    ("not found", None, "/no/such/page"),
    ("invitation", None, lambda w: f"/invitations/{w.invitation}"),
    ("learner home", "learner", "/learn"),
    ("module procedure", "learner", f"/learn/{COURSE}/procedure"),
    ("module safety", "failed", f"/learn/{COURSE}/safety"),
    ("module aftercare", "learner", f"/learn/{COURSE}/aftercare"),
    ("result failed", "failed", lambda w: f"/attempts/{w.failed_attempt}/result"),
    ("result passed", "manager", lambda w: f"/attempts/{w.passed_attempt}/result"),
    ("certificate", "learner", lambda w: f"/certificates/{w.code}"),
    ("learner home (assigned)", "failed", "/learn"),
    ("register", "manager", "/manage/"),
    ("register sorted", "manager", "/manage/?sort=status&dir=desc"),
    ("register search", "manager", "/manage/?q=" + "x" * 90),
    ("person", "manager", lambda w: f"/manage/people/{w.learner_id}"),
    ("person revoked", "manager", lambda w: f"/manage/people/{w.revoked_id}"),
    ("person revoked (admin)", "admin", lambda w: f"/manage/people/{w.revoked_id}"),
    ("invitations", "manager", "/manage/invitations"),
    ("api tokens", "manager", "/manage/tokens"),
    ("background job", "manager", lambda w: f"/jobs/{w.job_id}"),
    ("studio", "trainer", "/author/"),
    ("studio module", "trainer", lambda w: f"/author/modules/{_module_id(w, 'safety')}"),
    ("studio question", "trainer", lambda w: f"/author/questions/{w.question_id}"),
    ("studio content", "trainer", lambda w: f"/author/modules/{_module_id(w, 'safety')}/content"),
    ("studio quiz", "trainer", lambda w: f"/author/modules/{_module_id(w, 'safety')}/quiz"),
    ("studio preview", "trainer", lambda w: f"/author/modules/{_module_id(w, 'safety')}/preview"),
    ("question history", "trainer", lambda w: f"/author/questions/{w.question_id}/history"),
    ("item analysis", "trainer", lambda w: f"/author/analysis/modules/{_module_id(w, 'safety')}?attempts=all"),
    ("bank files", "trainer", "/author/files/"),
    ("admin", "admin", "/admin/"),
    ("admin audit", "admin", "/admin/audit"),
    ("admin outbox", "admin", "/admin/outbox"),
    ("admin register", "admin", "/manage/?clinic=all"),
    # The account pages of issue 13: clinics and accounts, a person, staff import, passwords.
    ("admin add account", "admin", "/manage/people/new"),
    ("person edit", "manager", lambda w: f"/manage/people/{w.failed_id}/edit"),
    ("person (admin)", "admin", lambda w: f"/manage/people/{w.failed_id}"),
    ("staff import", "manager", "/manage/people/import"),
    ("account", "learner", "/account"),
    ("forgot password", None, "/password/forgot"),
    ("reset password", None, lambda w: w.reset_path),
    ("reset link closed", None, "/password/reset/no-such-link"),
]


def overflow(page, width: int) -> int:
    """How many CSS pixels the page is wider than a viewport `width` px wide (0 when it reflows)."""
    page.set_viewport_size({"width": width, "height": 844})
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern;
    # a <script> tag with the source inline would be refused, as it should be.
    page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])}x {v['nodes'][0]['target']}" for v in result["violations"]]


# The elements sticking out past the right edge whose parent does not: what to fix when a page overflows.
WIDEST = """() => {
  const out = el => el.getBoundingClientRect().right > window.innerWidth + 0.5;
  return [...document.body.querySelectorAll('*')].filter(el => out(el) && !out(el.parentElement))
    .slice(0, 6).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
      ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
}"""


def measure(page) -> dict:
    widths, widest = {}, []
    for width in WIDTHS:
        widths[width] = overflow(page, width)
        if widths[width] and not widest:
            widest = page.evaluate(WIDEST)
    page.set_viewport_size({"width": 390, "height": 844})
    return {"overflow": widths, "axe": axe_violations(page), "sticking out": widest}


def _check(page, name: str) -> None:
    found = measure(page)
    print(f"\nPAGE {name!r}: overflow 390={found['overflow'][390]} 320={found['overflow'][320]} "
          f"axe={len(found['axe'])} {found['axe']} {found['sticking out']}")
    assert found["overflow"] == {390: 0, 320: 0} and found["axe"] == [], f"{name}: {found}"


@pytest.mark.parametrize("name, who, path", PAGES, ids=[p[0] for p in PAGES])
def test_page_reflows_at_phone_width_and_passes_axe(world, name, who, path):
    context = world.signed_in(getattr(world, who) if who else None)
    page = context.new_page()
    try:
        response = page.goto(path(world) if callable(path) else path)
        assert response.status < 500, f"{name}: HTTP {response.status}"
        _check(page, name)
    finally:
        page.close()


def test_quiz_in_progress_reflows_and_passes_axe(world):
    """The quiz page with every question type of the safety module, mid-attempt."""
    context = world.signed_in(world.manager)
    page = context.new_page()
    try:
        page.goto(f"/learn/{COURSE}/aftercare")
        page.get_by_role("button", name=re.compile("Start the quiz|Resume")).click()
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        _check(page, "quiz in progress")
    finally:
        page.close()


def test_revocation_confirmation_reflows_and_passes_axe(world):
    context = world.signed_in(world.admin)
    page = context.new_page()
    try:
        page.goto(f"/manage/people/{world.learner_id}")
        page.get_by_label("Reason for revoking").fill("Checking the confirmation page")
        page.get_by_role("button", name="Revoke…").click()
        page.get_by_role("heading", name="Revoke this certificate?").wait_for()
        _check(page, "revoke confirmation")
    finally:
        page.close()


def test_staff_import_preview_reflows_and_passes_axe(world):
    """The preview of a staff file: people to create and to update, a refused line."""
    context = world.signed_in(world.manager)
    page = context.new_page()
    staff = ("email,name,roles,course,due\n"
             "aisha.rahman-whitfield@harbour.example,Aisha Rahman-Whitfield,learner;manager,"
             f"{COURSE},2027-03-31\n"
             "staff1@harbour.example,Staff Member One,learner,,\n"
             "not-an-email,Someone,learner,,\n")
    try:
        page.goto("/manage/people/import")
        page.get_by_label("Staff file (CSV or XLSX)").set_input_files(
            files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": staff.encode()}])
        page.get_by_role("button", name="Preview").click()
        page.get_by_text("1 to create, 1 to update, 1 refused.").wait_for()
        _check(page, "staff import preview")
    finally:
        page.close()


def test_long_search_gets_a_friendly_page(world):
    """A 10,000-character search is refused with the site's own page, not the server's bare 414."""
    context = world.signed_in(world.manager)
    page = context.new_page()
    try:
        response = page.goto("/manage/?q=" + "x" * 10_000)
        assert response.status == 414
        assert page.get_by_role("heading", level=1).inner_text() == "Address too long"
        assert page.get_by_role("link", name="Back to your home page").count() == 1
        _check(page, "414")
    finally:
        page.close()
