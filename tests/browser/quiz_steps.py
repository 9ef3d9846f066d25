"""What a learner does on the quiz pages, as steps shared by the browser tests."""
from __future__ import annotations

import re
import time

from sqlalchemy import select

from trainer.extensions import db
from trainer.models import AttemptQuestion

ATTEMPT_URL = re.compile(r"/attempts/(\d+)$")
RESULT_URL = re.compile(r"/attempts/\d+/result$")


def sign_in(page, learner) -> None:
    page.goto("/login")
    fill_sign_in(page, learner)
    page.wait_for_url(re.compile(r"/learn$"))


def fill_sign_in(page, learner) -> None:
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label("Password").fill(learner.password)
    page.get_by_role("button", name="Sign in").click()


def start_quiz(page, course: str, module: str) -> int:
    page.goto(f"/learn/{course}/{module}")
    page.get_by_role("button", name="Start the quiz").click()
    page.wait_for_url(ATTEMPT_URL)
    return attempt_id_of(page)


def _refuse_while_offline(route) -> None:
    route.abort("internetdisconnected")


def go_offline(context) -> None:
    """Cut the browser's network. Under CI load, a save sent just after `set_offline(True)` once still
    reached the server (Chromium applies the emulation a moment later); refusing every request in
    Playwright's own route handler as well makes the cut certain from here on."""
    context.route("**/*", _refuse_while_offline)
    context.set_offline(True)


def go_online(context) -> None:
    context.unroute("**/*", _refuse_while_offline)
    context.set_offline(False)


def attempt_id_of(page) -> int:
    return int(ATTEMPT_URL.search(page.url).group(1))


def attempt_question(attempt_id: int, position: int) -> AttemptQuestion:
    return db.session.scalar(select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == position))


def canonical(aq: AttemptQuestion, value: str):
    """The stored response for a radio's form value (a display position, or true/false)."""
    kind = aq.version.content["type"]
    if kind == "true_false":
        return value == "true"
    assert kind == "single", kind
    return aq.display_order[int(value)]


def slow_network(context, ms: int) -> None:
    """Hold every request of the browser context for `ms` before it goes out, as a slow network does."""
    def delayed(route):
        # A sync route handler may block: Playwright serves the other requests once it returns.
        time.sleep(ms / 1000)
        route.continue_()
    context.route("**/*", delayed)
