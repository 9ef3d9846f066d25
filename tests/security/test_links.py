"""Links the app sends (invitations, certificate QR codes, e-mails) come from TRAINER_BASE_URL,
never the Host header."""
import re

import pytest

from tests.factories import PASSWORD, make_user
from trainer.config import ConfigError, settings_from_environment
from trainer.extensions import db
from trainer.models import OutboxMessage


def test_a_forged_host_header_does_not_reach_the_invitation_link(app):
    app.config["TRAINER_BASE_URL"] = "https://trainer.example.org"
    app.config["SERVER_NAME"] = None  # as in production: the app answers whatever Host arrives
    manager = make_user("manager")
    client = app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD}, headers={"Host": "evil.example"})
    page = client.post("/manage/invitations", data={"name": "Nina New", "email": "nina@example.org", "role": "learner"},
                       headers={"Host": "evil.example"}).get_data(as_text=True)
    link = re.search(r"<code>(http[^<]+/invitations/[^<]+)</code>", page).group(1)
    assert link.startswith("https://trainer.example.org/invitations/")
    mail = db.session.query(OutboxMessage).one()
    assert "https://trainer.example.org/invitations/" in mail.body and "evil.example" not in mail.body


def test_production_needs_a_base_url_and_refuses_a_bad_one(monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.delenv("TRAINER_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="TRAINER_BASE_URL"):
        settings_from_environment(str(tmp_path))
    monkeypatch.setenv("TRAINER_BASE_URL", "trainer.example.org")
    with pytest.raises(ConfigError, match="not a base URL"):
        settings_from_environment(str(tmp_path))
    monkeypatch.setenv("TRAINER_BASE_URL", "https://trainer.example.org/")
    assert settings_from_environment(str(tmp_path))["TRAINER_BASE_URL"] == "https://trainer.example.org"
