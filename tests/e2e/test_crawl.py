"""Follow every link each role can see: no page may answer with a server error."""
import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer.services.api_tokens import create_token
from trainer.services.staff import invite_staff

LINK = re.compile(r'href="([^"#]+)"')
SKIP = ("/logout", "/static/")


@pytest.fixture
def populated(app):
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Crawl Clinic")
    people = {
        "learner": make_user("learner", clinic=clinic),
        "manager": make_user("manager", "learner", clinic=clinic),
        "trainer": make_user("trainer"),
        "admin": make_user("admin"),
    }
    for module in course.modules:
        take_attempt(people["learner"], module)
    take_attempt(people["manager"], module_of(course, "care"), correct=False)
    create_token(people["manager"], "crawl")
    invite_staff(people["manager"], clinic.id, "new@example.org", "New Person", ["learner"])
    return people


@pytest.mark.parametrize("role", ["learner", "manager", "trainer", "admin"])
def test_no_link_leads_to_a_server_error(app, populated, role):
    client = app.test_client()
    client.post("/login", data={"email": populated[role].email, "password": PASSWORD})
    seen, queue, visited = set(), ["/"], 0
    while queue and visited < 150:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        visited += 1
        assert response.status_code < 500, f"{role}: GET {path} -> {response.status_code}"
        if response.mimetype != "text/html":
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            parts = urlsplit(urljoin("http://trainer.test" + path, href))
            if parts.netloc not in ("", "trainer.test") or parts.path.startswith(SKIP):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append(target)
    assert visited > 8, f"{role}: the crawl reached only {visited} pages"
