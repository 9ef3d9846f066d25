"""Showing stored (naive UTC) times in a person's time zone: their own, else their clinic's, else UTC."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from markupsafe import Markup, escape

UTC_NAME = "UTC"


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (for choices and validation)."""
    return tuple(sorted(available_timezones() | {UTC_NAME}))


@lru_cache(maxsize=1)
def _all_options() -> str:
    return "".join(f"<option>{escape(name)}</option>" for name in time_zone_names())


def time_zone_options(selected: str | None) -> Markup:
    """The <option>s of a time zone select, `selected` marked; built once per process, since escaping
    some 600 names on every page was a sixth of the manager's console."""
    options = _all_options()
    if selected and is_time_zone(selected):  # each tag is whole and unique: replacing it marks that zone only
        options = options.replace(f"<option>{escape(selected)}</option>",
                                  f"<option selected>{escape(selected)}</option>", 1)
    return Markup(options)


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def zone_name_of(person) -> str:
    if person is None or not getattr(person, "is_authenticated", True):
        return UTC_NAME
    if getattr(person, "time_zone", None):
        return person.time_zone
    clinic = getattr(person, "clinic", None)
    return clinic.time_zone if clinic is not None and clinic.time_zone else UTC_NAME


def to_local(dt: datetime, person) -> datetime:
    """A stored naive UTC datetime as an aware datetime in the person's zone (UTC if the name is unknown)."""
    try:
        zone = ZoneInfo(zone_name_of(person))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(UTC_NAME)
    return dt.replace(tzinfo=UTC).astimezone(zone)
