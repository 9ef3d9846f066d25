"""Clinic names on the command line: accented names are found however they are typed, a duplicate
is one sentence, and a name has a sane length."""
import unicodedata

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.models import Clinic, User
from trainer.services import ServiceError
from trainer.services.accounts import create_clinic, find_clinic


def test_an_accented_duplicate_is_one_sentence_not_a_traceback(runner):
    assert runner.invoke(args=["clinics", "create", "Clinique Étoile"]).exit_code == 0
    for typed in ("Clinique Étoile", "CLINIQUE ÉTOILE", "  clinique   étoile ",
                  unicodedata.normalize("NFD", "Clinique Étoile")):  # E + combining accent, as some keyboards send it
        result = runner.invoke(args=["clinics", "create", typed])
        assert result.exit_code == 1, typed
        assert result.output.strip() == "Error: A clinic named 'Clinique Étoile' already exists.", result.output
    assert db.session.scalar(select(func.count()).select_from(Clinic)) == 1


def test_users_create_finds_an_accented_clinic_however_it_is_typed(runner, monkeypatch):
    runner.invoke(args=["clinics", "create", "Clinique Étoile"])
    monkeypatch.setenv("TRAINER_PASSWORD", "lantern quarry velvet oboe")
    for n, typed in enumerate(["Clinique Étoile", "clinique étoile", unicodedata.normalize("NFD", "CLINIQUE ÉTOILE")]):
        result = runner.invoke(args=["users", "create", f"p{n}@example.org", "--name", "Pat Doe", "--clinic", typed])
        assert result.exit_code == 0, result.output
    assert {u.clinic.name for u in db.session.scalars(select(User))} == {"Clinique Étoile"}


def test_a_ten_thousand_character_clinic_name_is_refused(runner):
    result = runner.invoke(args=["clinics", "create", "x" * 10_000])
    assert result.exit_code == 1
    assert "A clinic name has at most 100 characters; this one has 10,000." in result.output
    assert db.session.scalar(select(func.count()).select_from(Clinic)) == 0


def test_a_decomposed_name_is_stored_composed(app):
    clinic = create_clinic(None, unicodedata.normalize("NFD", "Clinique Étoile"))
    assert clinic.name == "Clinique Étoile" and find_clinic("clinique étoile") == clinic


def test_a_person_name_has_at_most_200_characters(runner, monkeypatch):
    monkeypatch.setenv("TRAINER_PASSWORD", "lantern quarry velvet oboe")
    result = runner.invoke(args=["users", "create", "long@example.org", "--name", "N" * 201, "--role", "trainer"])
    assert result.exit_code == 1 and "A name has at most 200 characters; this one has 201." in result.output


def test_a_control_character_in_a_clinic_name_is_refused(app):
    with pytest.raises(ServiceError, match="control characters"):
        create_clinic(None, "North\x00Clinic")
