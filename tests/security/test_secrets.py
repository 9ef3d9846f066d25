"""Weak secrets are refused: common and guessable passwords, and short production keys."""
import pytest

from tests.factories import make_clinic
from trainer.config import ConfigError, settings_from_environment
from trainer.services import ServiceError
from trainer.services.accounts import create_user, password_problem

WEAK = ["password12", "1234567890", "a" * 10, "a" * 12, "password1234", "qwertyuiop12", "iloveyou2024",
        "123456789012", "Password123!", "letmein12345"]
STRONG = ["correct horse battery", "tulip-orbit-canvas-9", "gR7#qpL2!vXz"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_patterned_passwords_are_refused(password):
    assert password_problem(password) is not None


@pytest.mark.parametrize("password", STRONG)
def test_unrelated_words_and_random_strings_pass(password):
    assert password_problem(password) is None


def test_a_password_made_of_the_persons_own_name_is_refused(app):
    with pytest.raises(ServiceError, match="too easy to guess"):
        create_user(None, "marguerite.fontaine@example.org", "Marguerite Fontaine", "MargueriteFontaine",
                    ["learner"], make_clinic())


def test_the_invitation_form_and_service_ask_for_twelve_characters(app):
    assert "12" in password_problem("elevenchars")


def _production(monkeypatch, **keys):
    monkeypatch.setenv("TRAINER_ENV", "production")
    monkeypatch.setenv("TRAINER_BASE_URL", "https://trainer.example.org")
    for name, value in keys.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_a_short_secret_key(monkeypatch, tmp_path):
    _production(monkeypatch, SECRET_KEY="x", AUDIT_KEY="a" * 40)
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters"):
        settings_from_environment(str(tmp_path))
    _production(monkeypatch, SECRET_KEY="s" * 32, AUDIT_KEY="short")
    with pytest.raises(ConfigError, match="AUDIT_KEY must be at least 32 characters"):
        settings_from_environment(str(tmp_path))
    _production(monkeypatch, SECRET_KEY="s" * 32, AUDIT_KEY="a" * 32)
    assert settings_from_environment(str(tmp_path))["SECRET_KEY"] == "s" * 32
