"""Which clinic a manager or admin works on (security.clinic_in_scope): anything else is a 404."""
import pytest
from werkzeug.exceptions import NotFound

from tests.factories import make_clinic, make_user
from trainer.security import clinic_in_scope


def test_a_manager_works_on_their_own_clinic_whatever_they_ask_for(app):
    own, other = make_clinic("B own"), make_clinic("A other")
    manager = make_user("manager", clinic=own)
    for requested in ("", "all", str(other.id), "junk"):
        assert clinic_in_scope(manager, requested) == own


def test_an_admin_picks_a_clinic_or_the_whole_chain(app):
    first, second = make_clinic("A first"), make_clinic("B second")
    admin = make_user("admin")
    assert clinic_in_scope(admin, str(second.id)) == second
    assert clinic_in_scope(admin, "") == first  # nothing chosen: the first clinic by name
    assert clinic_in_scope(admin, "all") is None


@pytest.mark.parametrize("roles", [("learner",), ("trainer",), ("manager",)])
def test_anyone_without_a_clinic_to_manage_gets_a_404(app, roles):
    make_clinic()
    person = make_user(*roles)
    if "manager" in roles:
        person.clinic = None
    with pytest.raises(NotFound):
        clinic_in_scope(person, "")


def test_an_admin_asking_for_an_unknown_clinic_gets_a_404(app):
    admin = make_user("admin")
    with pytest.raises(NotFound):
        clinic_in_scope(admin, "999999")
