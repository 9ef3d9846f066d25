"""The question editor: add a question, or save an edited one as a new draft version."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.models import Module, Question
from trainer.quiz.types import QUESTION_TYPES
from trainer.security import role_required
from trainer.services import Forbidden, authoring
from trainer.views.author.common import bp, module_or_404, question_or_404, whole_number
from trainer.views.author.question_form import (
    question_from_values,
    values_from_content,
    values_from_request,
    with_blank_rows,
)

# --- the question editor -------------------------------------------------------------------------

def _values_from_content(content: dict) -> dict:
    return {**values_from_content(content), "moodle": moodle_only_summary(content)}


def moodle_only_summary(content: dict) -> list[str]:
    """Plain descriptions of what a question holds that the editor cannot show (kept on save)."""
    kind = content.get("type")
    qtype = QUESTION_TYPES.get(kind) if isinstance(kind, str) else None
    return qtype.editor_notes(content) if qtype else []


def _keep_unedited(question: dict, opened: dict | None) -> dict:
    """What the editor has no fields for (Moodle's weights, numerical answers, two true/false feedbacks,
    distractors) stays as the opened version had it, when the type is unchanged."""
    if not opened or opened.get("type") != question["type"] or question["type"] not in QUESTION_TYPES:
        return question
    return QUESTION_TYPES[question["type"]].keep_unedited(question, opened)


def _editor_page(module: Module, fields: dict, problems: dict, question: Question | None = None,
                 based_on: int | None = None, status: int = 200, message: str | None = None):
    newest = authoring.newest_version(question) if question is not None else None
    return render_template(
        "author/question.html", module=module, course=module.course, question=question, newest=newest,
        fields=with_blank_rows(fields), qtype=QUESTION_TYPES.get(fields["type"]), problems=problems,
        based_on=based_on, message=message,
        # A type without editor fields (numerical) is written in a bank file; the editor only keeps it.
        types=[(t.name, t.label) for t in QUESTION_TYPES.values()
               if t.editor_template or fields["type"] == t.name],
        sources=sorted((module.course.sources or {}).items()),
    ), status


@bp.route("/modules/<int:module_id>/questions/new")
@role_required("trainer", "admin")
def new_question(module_id: int):
    module = module_or_404(module_id)
    kind = request.args.get("type", "single")
    fields = _values_from_content({"type": kind if kind in QUESTION_TYPES else "single"})
    return _editor_page(module, fields, {})


@bp.route("/modules/<int:module_id>/questions", methods=["POST"])
@role_required("trainer", "admin")
def add_question(module_id: int):
    module = module_or_404(module_id)
    fields = values_from_request(request.form)
    if request.form.get("action") == "refresh":
        return _editor_page(module, fields, {})
    try:
        question = authoring.add_question(current_user, module, question_from_values(fields))
    except authoring.InvalidInput as exc:
        return _editor_page(module, fields, exc.problems, status=400, message=str(exc))
    except Forbidden:
        abort(403)
    flash(f"Added {question.key} as a draft (version 1). Publish it to put it in the quiz.", "success")
    return redirect(url_for("author.edit_question", question_id=question.id))


@bp.route("/questions/<int:question_id>")
@role_required("trainer", "admin")
def edit_question(question_id: int):
    question = question_or_404(question_id)
    newest = authoring.newest_version(question)
    fields = _values_from_content(newest.content if newest else {"id": question.key})
    return _editor_page(question.module, fields, {}, question, based_on=newest.number if newest else None)


@bp.route("/questions/<int:question_id>", methods=["POST"])
@role_required("trainer", "admin")
def save_question(question_id: int):
    """Save the edited question as a new draft version (or re-show the form with its problems)."""
    question = question_or_404(question_id)
    module = question.module
    fields = {**values_from_request(request.form), "id": question.key}
    based_on = whole_number(request.form.get("based_on", ""))
    based_on = based_on if isinstance(based_on, int) else None
    if request.form.get("action") == "refresh":
        return _editor_page(module, fields, {}, question, based_on)
    opened = authoring.question_version(question, based_on) if based_on else None
    fields["moodle"] = moodle_only_summary(opened.content) if opened else []
    data = _keep_unedited(question_from_values(fields), opened.content if opened else None)
    try:
        version = authoring.save_question(current_user, question, data, based_on)
    except authoring.InvalidInput as exc:
        return _editor_page(module, fields, exc.problems, question, based_on, status=400, message=str(exc))
    except authoring.EditConflict as exc:
        return _editor_page(module, fields, {}, question, based_on, status=409, message=str(exc))
    except Forbidden:
        abort(403)
    if version is None:
        flash("No changes: the question is the same as its newest version.", "success")
    else:
        flash(f"Saved version {version.number} as a draft. Publish it to make it the version new attempts use.",
              "success")
    return redirect(url_for("author.edit_question", question_id=question.id))
