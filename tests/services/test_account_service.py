import importlib

import pytest

from trainer.services import ServiceError, accounts


def test_default_bcrypt_cost_is_at_least_12():
    # The suite lowers the cost for speed; a fresh copy of the module shows the real default.
    spec = importlib.util.find_spec("trainer.services.accounts")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.BCRYPT_ROUNDS >= 12
    assert fresh.hash_password("whatever password").startswith(f"$2b${fresh.BCRYPT_ROUNDS}$")


def test_long_passwords_are_not_silently_truncated():
    base = "x" * 100  # bcrypt alone reads only the first 72 bytes
    stored = accounts.hash_password(base + "A")
    assert accounts.check_password(base + "A", stored)
    assert not accounts.check_password(base + "B", stored)


def test_learners_need_a_clinic_and_roles_are_known(app):
    with pytest.raises(ServiceError, match="belong to a clinic"):
        accounts.create_user(None, "a@example.org", "A", "long enough pw", ["learner"], None)
    with pytest.raises(ServiceError, match="Unknown role"):
        accounts.create_user(None, "a@example.org", "A", "long enough pw", ["wizard"], None)
