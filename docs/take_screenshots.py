"""Regenerate the README screenshots: `.venv/bin/python docs/take_screenshots.py` (needs /usr/bin/chromium).

Builds a throwaway database with the shipped course and a demo clinic, serves it on a free
local port, and photographs the main pages with Playwright driving Debian's Chromium.
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "screenshots-only")

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from tests.factories import FormData, correct_form, wrong_form  # noqa: E402
from trainer import create_app  # noqa: E402
from trainer.banks.course_folder import load_course  # noqa: E402
from trainer.extensions import db  # noqa: E402
from trainer.services.accounts import create_clinic, create_user  # noqa: E402
from trainer.services.attempts import save_answer, start_attempt, submit_attempt  # noqa: E402
from trainer.services.catalog import import_courses  # noqa: E402

PASSWORD = "screenshot password"
OUT = ROOT / "docs" / "screenshots"


def answer_all(user, module, right_share: float, seed: int):
    attempt = start_attempt(user, module, rng=random.Random(seed))
    for i, aq in enumerate(attempt.questions):
        form = correct_form(aq) if i < right_share * len(attempt.questions) else wrong_form(aq)
        save_answer(user, attempt.id, aq.position, FormData(form), seq=1)
    return submit_attempt(user, attempt.id)


def build(app):
    import_courses(None, [load_course(ROOT / "question_banks" / "microneedling")])
    from trainer.models import Course
    course = db.session.query(Course).one()
    clinic = create_clinic(None, "Harbour Skin Clinic")
    manager = create_user(None, "manager@harbour.example", "Morgan Reyes", PASSWORD, ["manager"], clinic)
    learner = create_user(None, "pat@harbour.example", "Pat Okafor", PASSWORD, ["learner"], clinic)
    names = ["Ana Silva", "Ben Carter", "Chloe Martin", "Dev Patel", "Ella Novak"]
    for n, name in enumerate(names):
        person = create_user(None, f"staff{n}@harbour.example", name, PASSWORD, ["learner"], clinic)
        for m, module in enumerate(course.modules[: (n + 3) % 4]):
            answer_all(person, module, 1.0 if n % 2 == 0 else 0.6, seed=n * 10 + m)
    answer_all(learner, course.modules[0], 1.0, seed=1)
    create_user(None, "trainer@harbour.example", "Terry Trainer", PASSWORD, ["trainer"], None)
    create_user(None, "admin@harbour.example", "Alex Admin", PASSWORD, ["admin"], None)
    # A finished certificates ZIP: its page shows the full bar and the download.
    from trainer.services.jobs import request_job, run_job
    job_id = request_job(manager, "certificates_zip", clinic.id, {"file_name": "certificates-harbour-skin-clinic.zip"})
    db.session.commit()
    run_job(job_id)
    return course, manager, learner, job_id


def main():
    tmp = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        course, manager, learner, job_id = build(app)
        manager_email, learner_email = manager.email, learner.email
        safety = course.modules[1]
        safety_id, question_id = safety.id, safety.questions[0].id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])

        def signed_in(email):
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(base + "/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            return page

        page = signed_in(learner_email)
        page.screenshot(path=OUT / "learner-home.png")
        page.goto(base + "/learn/microneedling-practitioner/safety")
        page.screenshot(path=OUT / "module.png")
        page.click("text=Start the quiz")
        page.locator("fieldset#question-1 input[type=radio], fieldset#question-1 input[type=checkbox]").first.check()
        page.wait_for_selector("#save-state-1.saved")
        page.screenshot(path=OUT / "quiz.png")
        page.once("dialog", lambda dialog: dialog.accept())  # "14 questions have no answer. Submit anyway?"
        page.click("#submit-attempt")
        page.wait_for_url("**/result")
        page.screenshot(path=OUT / "result.png")
        page = signed_in(manager_email)
        page.screenshot(path=OUT / "manager-register.png", full_page=True)
        page.goto(f"{base}/jobs/{job_id}")
        page.wait_for_selector("text=Download")
        page.screenshot(path=OUT / "job-ready.png")
        # Phone width (390 px): the same pages reflow with no sideways scrolling.
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        for email, path, name in [(learner_email, "/learn", "phone-learner-home.png"),
                                  (learner_email, "/learn/microneedling-practitioner/safety", "phone-module.png"),
                                  (manager_email, "/manage/", "phone-register.png")]:
            phone.context.clear_cookies()
            phone.goto(base + "/login")
            phone.fill("#email", email)
            phone.fill("#password", PASSWORD)
            phone.click("button[type=submit]")
            phone.goto(base + path)
            phone.screenshot(path=OUT / name, full_page=name == "phone-register.png")
        phone.close()
        page = signed_in("trainer@harbour.example")
        page.goto(f"{base}/author/questions/{question_id}")
        page.screenshot(path=OUT / "question-editor.png")
        page.goto(f"{base}/author/analysis/modules/{safety_id}?attempts=all")
        page.screenshot(path=OUT / "item-analysis.png")
        page = signed_in("admin@harbour.example")
        page.goto(base + "/admin/")
        page.screenshot(path=OUT / "admin-accounts.png", full_page=True)
        browser.close()
    server.shutdown()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
