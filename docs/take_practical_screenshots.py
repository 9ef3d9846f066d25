"""Regenerate the practical-competence screenshots: `.venv/bin/python docs/take_practical_screenshots.py`.

Like docs/take_screenshots.py: a throwaway database with the shipped course, a local server on a
free port, Debian's Chromium through Playwright. Both pages are photographed at phone width (390 px).
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "screenshots-only")

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from trainer import create_app  # noqa: E402
from trainer.banks.course_folder import load_course  # noqa: E402
from trainer.extensions import db  # noqa: E402
from trainer.services.accounts import create_clinic, create_user  # noqa: E402
from trainer.services.catalog import import_courses  # noqa: E402
from trainer.services.practical import log_case, record_registration, review_case, verify_registration  # noqa: E402

PASSWORD = "screenshot password"
OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def case(n: int, indication: str, areas: str) -> dict:
    return {"treated_on": (date(2026, 11, 2) + timedelta(days=4 * n)).isoformat(), "client_ref": f"HSC-{1040 + n}",
            "fitzpatrick": ["II", "III", "IV", "III", "V", "II"][n], "indication": indication, "areas": areas,
            "device": "SkinPen Precision", "cartridge_lot": f"SP2611-{30 + n}", "rescreen_done": "y",
            "consent_recorded": "y", "glide": "SkinPen Lift HG hydrogel", "aftercare_given": "y",
            "supervisor": "Dr Amara Lewis (GMC 7654321)"}


def build():
    import_courses(None, [load_course(ROOT / "question_banks" / "microneedling")])
    from trainer.models import Course
    course = db.session.query(Course).one()
    clinic = create_clinic(None, "Harbour Skin Clinic")
    admin = create_user(None, "admin@harbour.example", "Alex Admin", PASSWORD, ["admin"], None)
    learner = create_user(None, "pat@harbour.example", "Pat Okafor", PASSWORD, ["learner"], clinic)
    assessor = create_user(None, "nurse@harbour.example", "Jo Whitfield RN", PASSWORD, ["assessor"], clinic)
    registration = record_registration(admin, assessor, "NMC", "12A3456E", date(2027, 9, 30), [clinic])
    verify_registration(admin, registration)
    plan = [("atrophic-acne-scars", "cheeks: 1.5\ntemples: 0.5"), ("atrophic-acne-scars", "cheeks: 1.25"),
            ("texture-and-fine-lines", "forehead: 0.5\nperioral: 0.75"), ("atrophic-acne-scars", "cheeks: 1.5"),
            ("texture-and-fine-lines", "forehead: 0.5"), ("enlarged-pores", "nose: 0.5\ncheeks: 1.0")]
    for n, (indication, areas) in enumerate(plan):
        logged = log_case(learner, course, case(n, indication, areas))
        if n < 4:
            review_case(assessor, logged, verified=True, comment="")
        elif n == 4:
            review_case(assessor, logged, verified=False, comment="Add the cartridge lot from the packaging label.")
    return course, learner, assessor


def main():
    tmp = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        course, learner, assessor = build()
        slug, learner_id, learner_email, assessor_email = course.slug, learner.id, learner.email, assessor.email
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])

        def signed_in(email):
            page = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
            page.goto(base + "/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            return page

        page = signed_in(learner_email)
        page.goto(f"{base}/practical/{slug}/people/{learner_id}")
        page.screenshot(path=OUT / "practical-logbook.png", full_page=True)
        page = signed_in(assessor_email)
        page.goto(f"{base}/practical/{slug}/people/{learner_id}/dops")
        steps = page.locator("fieldset.rating")
        for i in range(steps.count() - 1):
            steps.nth(i).get_by_label("Competent", exact=True).check()
        steps.nth(steps.count() - 1).get_by_label("Competent with supervision").check()
        page.select_option("#case", index=1)
        page.fill("#feedback", "Safe, well-prepared treatment. Depth stayed within the pen's labelling; "
                               "keep practising the orbital rim under supervision.")
        page.check("#final")
        page.screenshot(path=OUT / "practical-signoff.png", full_page=True)
        browser.close()
    server.shutdown()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
