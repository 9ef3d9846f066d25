"""Security headers: a CSP with no inline script, no framing, no sniffing, HSTS in production,
no-store on personal pages."""
import re

import pytest

from tests.conftest import TINY_COURSE, make_app
from tests.factories import PASSWORD, import_course, make_user

PAGES = {
    "learner": ["/learn", "/learn/tiny-course/basics"],
    "manager": ["/manage/", "/manage/invitations", "/manage/tokens"],
    "trainer": ["/author/", "/author/files/"],
    "admin": ["/admin/", "/admin/audit"],
}


def _signed_in(app, role):
    user = make_user(role)
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_carries_the_security_headers_and_no_inline_script(app, role):
    import_course(TINY_COURSE)
    client = _signed_in(app, role)
    for path in PAGES[role]:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = _directives(response)
        assert csp["script-src"] == "'self'" and "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "no-store" in response.headers["Cache-Control"], path
        html = response.get_data(as_text=True)
        # The CSP would block these anyway; none must be needed for the page to work.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style\b", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path


def test_anonymous_pages_and_errors_carry_them_too(app, client):
    for path, status in (("/login", 200), ("/healthz", 200), ("/no-such-page", 404), ("/api/v1/certificates/x", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert _directives(response)["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(app, client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_in_production(database_url):
    assert "Strict-Transport-Security" not in make_app(database_url).test_client().get("/login").headers
    production = make_app(database_url, TRAINER_ENV="production")
    hsts = production.test_client().get("/login").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


def test_a_405_says_which_methods_are_allowed(app, client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in {m.strip() for m in response.headers["Allow"].split(",")}
