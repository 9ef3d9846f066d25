"""Forms without a WTForms form object write their CSRF token through one macro, macros/forms.html::csrf."""
import re
from pathlib import Path

from tests.factories import PASSWORD, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_writes_the_token_input_by_hand():
    by_hand = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
               if "csrf_token()" in path.read_text(encoding="utf-8")]
    assert by_hand == ["macros/forms.html"]


def test_the_macro_writes_the_session_token_the_sign_out_form_needs(csrf_app):
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
    user = make_user("learner")
    signed_in = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    sign_out = re.search(r'<form method="post" action="/logout" class="inline">\s*'
                         r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert sign_out is not None
    assert client.post("/logout", data={"csrf_token": sign_out[1]}).status_code == 302
