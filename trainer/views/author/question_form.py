"""The question editor's form layer on WTForms: the fields every question has, plus each type's own fields
as its class describes them (QuestionType.editor_fields), read from the posted form and turned into a question.

Field names are the editor's: `stem`, `choices-0-text`, `choices-0-correct`, `order-2`, so a table row is a
FieldList entry. The template writes the inputs itself (their markup is part of the browser behaviour);
CSRF is checked for every POST by the app's CSRFProtect, with the token the template's `csrf()` writes.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField

from trainer.quiz.types import QUESTION_TYPES, EditorField
from trainer.services.authoring import COMMON_FIELDS
from trainer.views.author.common import multi_line, one_line, whole_number

#: Empty rows the editor offers after the filled ones (press "Update the form" for more).
BLANK_ROWS = 3
#: Rows read from a posted form; more than this is not a question anyone writes by hand.
MAX_ROWS = 100


class _CommonFields(FlaskForm):
    """The fields every question has (authoring.COMMON_FIELDS); each type adds its own."""

    id = StringField(filters=[one_line])
    type = StringField(filters=[one_line])
    stem = TextAreaField(filters=[multi_line])
    explanation = TextAreaField(filters=[multi_line])
    feedback = TextAreaField(filters=[multi_line])
    source = StringField(filters=[one_line])
    tags = StringField(filters=[one_line])
    difficulty = StringField(filters=[one_line])
    critical = BooleanField()


def type_fields() -> tuple[EditorField, ...]:
    """Every registered type's own editor fields, each key once (single and multiple share `choices`)."""
    fields: dict[str, EditorField] = {}
    for qtype in QUESTION_TYPES.values():
        for f in qtype.editor_fields:
            fields.setdefault(f.key, f)
    return tuple(fields.values())


def _wtforms_field(f: EditorField):
    if f.kind == "rows":
        row = type(f"{f.key.title()}Row", (Form,), {
            column: BooleanField() if column in f.ticks else StringField(filters=[one_line]) for column in f.columns})
        return FieldList(FormField(row), max_entries=MAX_ROWS)
    if f.kind == "list":
        return FieldList(StringField(filters=[one_line]), max_entries=MAX_ROWS)
    return StringField(filters=[one_line])


@cache
def _form_class(fields: tuple[EditorField, ...]) -> type[FlaskForm]:
    return type("QuestionForm", (_CommonFields,), {f.key: _wtforms_field(f) for f in fields})


def _filled(f: EditorField, value: Any) -> bool:
    if f.kind == "rows":
        return any(value.get(column) for column in f.columns)
    return bool(value)


def blank_values() -> dict:
    """The values of an empty editor: every type's fields, so changing the type keeps what was typed."""
    return {f.key: [] if f.kind in ("rows", "list") else f.default for f in type_fields()}


def values_from_request(formdata) -> dict:
    """The editor's values as posted: filled rows only, in row order (blank rows dropped)."""
    fields = type_fields()
    form = _form_class(fields)(formdata=formdata)
    values = {name: form[name].data for name in COMMON_FIELDS}
    for f in fields:
        data = form[f.key].data
        if f.kind in ("rows", "list"):
            values[f.key] = [row for row in data if _filled(f, row)]
        else:
            values[f.key] = data or f.default
    values["moodle"] = []
    return values


def values_from_content(content: Mapping) -> dict:
    """The editor's values for a stored version (its type's own fields from the type)."""
    def text(value) -> str:
        return "" if value is None else str(value)

    values = {
        "id": text(content.get("id")), "type": text(content.get("type") or "single"),
        "stem": text(content.get("stem")), "explanation": text(content.get("explanation")),
        "feedback": text(content.get("feedback")), "source": text(content.get("source")),
        "tags": ", ".join(text(t) for t in content.get("tags") or []), "difficulty": text(content.get("difficulty")),
        "critical": content.get("critical") is True, **blank_values(),
    }
    qtype = QUESTION_TYPES.get(values["type"])
    if qtype is not None:
        values.update(qtype.editor_values(content))
    return values


def question_from_values(values: Mapping) -> dict:
    """The question dict the bank format defines, from the editor's values (the service normalises it)."""
    question = {
        "id": values["id"], "type": values["type"], "stem": values["stem"], "explanation": values["explanation"],
        "feedback": values["feedback"], "source": values["source"],
        "tags": [t.strip() for t in values["tags"].split(",") if t.strip()],
        "difficulty": whole_number(values["difficulty"]), "critical": True if values["critical"] else None,
    }
    qtype = QUESTION_TYPES.get(values["type"])
    if qtype is not None:
        question.update(qtype.from_editor(values))
    return question


def with_blank_rows(values: Mapping) -> dict:
    """The values to show: each list of rows followed by blank rows to fill in."""
    shown = dict(values)
    for f in type_fields():
        if f.kind not in ("rows", "list"):
            continue
        blank: Any = {c: False if c in f.ticks else "" for c in f.columns} if f.kind == "rows" else ""
        count = max(len(values[f.key]) + BLANK_ROWS, f.min_rows)
        shown[f.key] = list(values[f.key]) + [blank] * (count - len(values[f.key]))
    return shown
