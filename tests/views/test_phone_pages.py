"""Page-level details for phones and assistive technology that need no browser: the favicon, a friendly
414 for over-long addresses, the register's sort state on its header cells, the header menu."""
from __future__ import annotations

import re

from tests.factories import PASSWORD, make_user


def login(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})


def test_every_page_links_a_favicon_that_is_served(client):
    html = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_an_over_long_search_gets_the_sites_own_414_page(app, client):
    manager = make_user("manager")
    login(client, manager)
    response = client.get("/manage/?q=" + "x" * 3000)
    assert response.status_code == 414
    html = response.get_data(as_text=True)
    assert "<h1>Address too long</h1>" in html and "Back to your home page" in html
    assert "Traceback" not in html


def test_search_box_limits_what_can_be_typed(app, client):
    from tests.conftest import TINY_COURSE
    from tests.factories import import_course
    from trainer.models import Course  # noqa: F401  (the register needs a course to show the search box)

    import_course(TINY_COURSE)
    manager = make_user("manager")
    login(client, manager)
    html = client.get("/manage/").get_data(as_text=True)
    assert re.search(r'<input id="q" name="q" type="search" maxlength="100"', html)


def test_register_puts_aria_sort_on_the_header_cell_not_the_link(app, client):
    from tests.conftest import TINY_COURSE
    from tests.factories import import_course

    import_course(TINY_COURSE)
    manager = make_user("manager")
    login(client, manager)
    html = client.get("/manage/?sort=status&dir=desc").get_data(as_text=True)
    assert re.search(r'<th scope="col" class="sortable" aria-sort="descending">\s*<a [^>]*>Status', html)
    assert not re.search(r"<a [^>]*aria-sort", html)


def test_header_menu_is_a_details_disclosure_without_script(app, client):
    learner = make_user("learner")
    login(client, learner)
    html = client.get("/learn").get_data(as_text=True)
    menu = re.search(r'<details class="menu">\s*<summary>Menu</summary>\s*<nav aria-label="Main">(.*?)</nav>',
                     html, re.S)
    assert menu and "My training" in menu.group(1) and "Sign out" in menu.group(1)


def test_verify_form_takes_a_typed_code(app, client):
    from tests.conftest import TINY_COURSE
    from tests.factories import import_course, take_attempt
    from trainer.extensions import db
    from trainer.models import Certificate

    course = import_course(TINY_COURSE)
    learner = make_user("learner", name="Vera Valid")
    for module in course.modules:
        take_attempt(learner, module)
    code = db.session.query(Certificate).one().code
    form = client.get("/verify")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert re.search(r'<form method="get" action="/verify"', html)
    assert re.search(r'<label for="code">Certificate code</label>\s*<input id="code" name="code"', html)
    # Typed from paper: spaces and surrounding blanks are forgiven.
    response = client.get("/verify", query_string={"code": f"  {code[:4]} {code[4:]} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{code}")
    # A grouped code typed in lower case without dashes lands on its canonical address.
    response = client.get("/verify", query_string={"code": code.replace("-", "").lower()})
    assert response.headers["Location"].endswith(f"/verify/{code}")
    assert "Vera Valid" in client.get(response.headers["Location"]).get_data(as_text=True)
    # An empty code is a clear message on the form, an unknown one offers the form again.
    assert "Enter the code printed on the certificate" in client.get("/verify?code=+").get_data(as_text=True)
    unknown = client.get("/verify/NOSUCHCODE")
    assert unknown.status_code == 404 and 'action="/verify"' in unknown.get_data(as_text=True)
