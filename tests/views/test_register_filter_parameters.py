"""The register's filters (status, q, sort, dir) are read by one parser with one behaviour on every surface:
the console page, the CSV and XLSX downloads and the JSON API refuse an unknown value with the same 400."""
import pytest

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_user
from trainer.services.api_tokens import create_token
from trainer.services.register import STATUS_FILTERS, InvalidRegisterFilter, parse_register_filters

STATUS_MESSAGE = "Unknown status 'bogus': status must be one of: " + ", ".join(STATUS_FILTERS) + "."
SORT_MESSAGE = "Unknown sort 'age': sort must be one of: name, status, expiry."
DIR_MESSAGE = "Unknown direction 'up': dir must be asc or desc."


def test_the_parser_reads_the_filters_and_defaults_what_is_missing():
    assert parse_register_filters({}) == {"status": None, "search": None, "sort": "name", "descending": False}
    parsed = parse_register_filters({"status": "not started", "q": "  Bob ", "sort": "expiry", "dir": "desc"})
    assert parsed == {"status": "not started", "search": "Bob", "sort": "expiry", "descending": True}
    assert parse_register_filters({"q": "x" * 500})["search"] == "x" * 100
    assert parse_register_filters({"status": "", "sort": "", "dir": ""})["status"] is None


@pytest.mark.parametrize("args, message", [({"status": "bogus"}, STATUS_MESSAGE), ({"sort": "age"}, SORT_MESSAGE),
                                           ({"dir": "up"}, DIR_MESSAGE)])
def test_the_parser_refuses_an_unknown_value_naming_the_valid_ones(args, message):
    with pytest.raises(InvalidRegisterFilter) as caught:
        parse_register_filters(args)
    assert str(caught.value) == message


@pytest.fixture
def manager_client(app):
    import_course(TINY_COURSE)
    manager = make_user("manager")
    client = app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    return manager, client


@pytest.mark.parametrize("query, message", [("status=bogus", STATUS_MESSAGE), ("sort=age", SORT_MESSAGE),
                                            ("dir=up", DIR_MESSAGE)])
def test_every_surface_refuses_an_unknown_filter_with_the_same_message(app, manager_client, query, message):
    manager, client = manager_client
    for path in ("/manage/", "/manage/register.csv", "/manage/register.xlsx"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message.replace("'", "&#39;") in response.get_data(as_text=True), path
    api = app.test_client().get(f"/api/v1/register?{query}",
                                headers={"Authorization": f"Bearer {create_token(manager, 'HR')[1]}"})
    assert api.status_code == 400 and api.get_json()["error"] == message
