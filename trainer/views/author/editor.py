"""The question editor: add a question, or save an edited one as a new draft version."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.models import Module, Question
from trainer.quiz.types import QUESTION_TYPES
from trainer.security import role_required
from trainer.services import Forbidden, authoring
from trainer.views.author.common import bp, module_or_404, multi_line, one_line, question_or_404, whole_number

#: Empty rows the editor offers after the filled ones (press "Update the form" for more).
BLANK_ROWS = 3
MIN_ROWS = {"choices": 4, "pairs": 3, "order": 3, "answers": 2}
#: Rows read from a posted form; more than this is not a question anyone writes by hand.
MAX_ROWS = 100
_ROW_FIELD = re.compile(r"^(choices|pairs|order|answers)-(\d{1,3})(?:-(text|correct|feedback|left|right))?$")

# --- the question editor -------------------------------------------------------------------------

def _question_form_from_content(content: dict) -> dict:
    """The editor's fields for a stored version."""
    def text(value) -> str:
        return "" if value is None else str(value)

    return {
        "id": text(content.get("id")), "type": text(content.get("type") or "single"),
        "stem": text(content.get("stem")), "explanation": text(content.get("explanation")),
        "feedback": text(content.get("feedback")), "source": text(content.get("source")),
        "tags": ", ".join(text(t) for t in content.get("tags") or []), "difficulty": text(content.get("difficulty")),
        "critical": content.get("critical") is True,
        "choices": [{"text": text(c.get("text")), "correct": c.get("correct") is True,
                     "feedback": text(c.get("feedback"))} for c in content.get("choices") or [] if isinstance(c, dict)],
        "scoring": text(content.get("scoring") or "all_or_nothing"),
        "answer": {True: "true", False: "false"}.get(content.get("answer"), ""),
        "pairs": [{"left": text(p.get("left")), "right": text(p.get("right"))}
                  for p in content.get("pairs") or [] if isinstance(p, dict)],
        "order": [text(i) for i in content.get("order") or []],
        "answers": [text(a.get("text", a.get("value"))) if isinstance(a, dict) else text(a)
                    for a in content.get("answers") or []],
        "moodle": moodle_only_summary(content),
    }


#: What the editor has no fields for; a save keeps it from the version the editor opened.
_MOODLE_KEYS = ("feedback_right", "feedback_wrong", "distractors", "unit")


def moodle_only_summary(content: dict) -> list[str]:
    """Plain descriptions of what a question holds that the editor cannot show (kept on save)."""
    notes = [f"choice '{c['text']}' is worth {c['weight']:g}%" for c in content.get("choices") or []
             if isinstance(c, dict) and "weight" in c]
    if content.get("type") == "numerical":
        notes += [f"answer {a['value']:g}" + (f" ± {a['tolerance']:g}" if a.get("tolerance") else "")
                  + f" is worth {a.get('weight', 100):g}%" for a in content.get("answers") or []]
    elif content.get("type") == "short_answer":
        notes += [f"answer '{a['text']}' is worth {a.get('weight', 100):g}%"
                  + (f" with feedback '{a['feedback']}'" if a.get("feedback") else "")
                  for a in content.get("answers") or [] if isinstance(a, dict)]
    for key, label in (("feedback_right", "feedback for a right answer"),
                       ("feedback_wrong", "feedback for a wrong answer"), ("unit", "unit")):
        if content.get(key):
            notes.append(f"{label}: {content[key]}")
    notes += [f"extra right side no item matches: '{d}'" for d in content.get("distractors") or []]
    return notes


def _keep_moodle_keys(question: dict, opened: dict | None) -> dict:
    """Moodle's weights, numerical answers, two true/false feedbacks and distractors stay as they were:
    the editor has no fields for them, and a save must never silently change how a question grades."""
    if not opened or opened.get("type") != question["type"]:
        return question
    for key in _MOODLE_KEYS:
        if key in opened:
            question[key] = opened[key]
    if question["type"] == "numerical":
        question["answers"] = opened.get("answers")
    if question["type"] == "short_answer":
        kept = {a["text"]: a for a in opened.get("answers") or [] if isinstance(a, dict)}
        question["answers"] = [dict(kept[a]) if a in kept else a for a in question["answers"]]
    if "choices" in question:
        weights = {c["text"]: c["weight"] for c in opened.get("choices") or [] if "weight" in c}
        for choice in question["choices"]:
            if choice["text"] in weights and not (question["type"] == "single" and choice.get("correct")):
                choice["weight"] = weights[choice["text"]]
    return question


def _question_form_from_request(form) -> dict:
    """The editor's fields as posted, filled rows only, in row order (blank rows dropped)."""
    rows: dict[str, dict[int, dict]] = {"choices": {}, "pairs": {}, "order": {}, "answers": {}}
    for name, value in form.items(multi=True):
        match = _ROW_FIELD.match(name)
        if match and int(match.group(2)) < MAX_ROWS:
            group, index, part = match.group(1), int(match.group(2)), match.group(3) or "value"
            rows[group].setdefault(index, {})[part] = value
    choices = [{"text": one_line(r.get("text")), "correct": "correct" in r, "feedback": one_line(r.get("feedback"))}
               for _, r in sorted(rows["choices"].items())]
    pairs = [{"left": one_line(r.get("left")), "right": one_line(r.get("right"))}
             for _, r in sorted(rows["pairs"].items())]
    return {
        "moodle": [],
        "id": one_line(form.get("id")), "type": one_line(form.get("type")),
        "stem": multi_line(form.get("stem")), "explanation": multi_line(form.get("explanation")),
        "feedback": multi_line(form.get("feedback")), "source": one_line(form.get("source")),
        "tags": one_line(form.get("tags")), "difficulty": one_line(form.get("difficulty")),
        "critical": bool(form.get("critical")),
        "choices": [c for c in choices if c["text"] or c["feedback"] or c["correct"]],
        "scoring": one_line(form.get("scoring")) or "all_or_nothing",
        "answer": one_line(form.get("answer")),
        "pairs": [p for p in pairs if p["left"] or p["right"]],
        "order": [v for _, r in sorted(rows["order"].items()) if (v := one_line(r.get("value")))],
        "answers": [v for _, r in sorted(rows["answers"].items()) if (v := one_line(r.get("value")))],
    }


def _question_from_form(fields: dict) -> dict:
    """The question dict the bank format defines, from the editor's fields (the service normalises it)."""
    question = {
        "id": fields["id"], "type": fields["type"], "stem": fields["stem"], "explanation": fields["explanation"],
        "feedback": fields["feedback"], "source": fields["source"],
        "tags": [t.strip() for t in fields["tags"].split(",") if t.strip()],
        "difficulty": whole_number(fields["difficulty"]), "critical": True if fields["critical"] else None,
    }
    kind = fields["type"]
    if kind in ("single", "multiple"):
        question["choices"] = [dict(c) for c in fields["choices"]]
    if kind == "multiple":
        question["scoring"] = fields["scoring"]
    if kind == "true_false":
        question["answer"] = {"true": True, "false": False}.get(fields["answer"])
    if kind == "matching":
        question["pairs"] = [dict(p) for p in fields["pairs"]]
    if kind == "ordering":
        question["order"] = list(fields["order"])
    if kind == "short_answer":
        question["answers"] = list(fields["answers"])
    return question


def _with_blank_rows(fields: dict) -> dict:
    blank = {"choices": {"text": "", "correct": False, "feedback": ""}, "pairs": {"left": "", "right": ""},
             "order": "", "answers": ""}
    shown = dict(fields)
    for group, empty in blank.items():
        count = max(len(fields[group]) + BLANK_ROWS, MIN_ROWS[group])
        shown[group] = list(fields[group]) + [empty] * (count - len(fields[group]))
    return shown


def _editor_page(module: Module, fields: dict, problems: dict, question: Question | None = None,
                 based_on: int | None = None, status: int = 200, message: str | None = None):
    newest = authoring.newest_version(question) if question is not None else None
    return render_template(
        "author/question.html", module=module, course=module.course, question=question, newest=newest,
        fields=_with_blank_rows(fields), problems=problems, based_on=based_on, message=message,
        # Numerical answers are written in a bank file (GIFT, Moodle XML, YAML); the editor only keeps them.
        types=[(t.name, t.label) for t in QUESTION_TYPES.values()
               if t.name != "numerical" or fields["type"] == "numerical"],
        sources=sorted((module.course.sources or {}).items()),
    ), status


@bp.route("/modules/<int:module_id>/questions/new")
@role_required("trainer", "admin")
def new_question(module_id: int):
    module = module_or_404(module_id)
    kind = request.args.get("type", "single")
    fields = _question_form_from_content({"type": kind if kind in QUESTION_TYPES else "single"})
    return _editor_page(module, fields, {})


@bp.route("/modules/<int:module_id>/questions", methods=["POST"])
@role_required("trainer", "admin")
def add_question(module_id: int):
    module = module_or_404(module_id)
    fields = _question_form_from_request(request.form)
    if request.form.get("action") == "refresh":
        return _editor_page(module, fields, {})
    try:
        question = authoring.add_question(current_user, module, _question_from_form(fields))
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
    fields = _question_form_from_content(newest.content if newest else {"id": question.key})
    return _editor_page(question.module, fields, {}, question, based_on=newest.number if newest else None)


@bp.route("/questions/<int:question_id>", methods=["POST"])
@role_required("trainer", "admin")
def save_question(question_id: int):
    """Save the edited question as a new draft version (or re-show the form with its problems)."""
    question = question_or_404(question_id)
    module = question.module
    fields = {**_question_form_from_request(request.form), "id": question.key}
    based_on = whole_number(request.form.get("based_on", ""))
    based_on = based_on if isinstance(based_on, int) else None
    if request.form.get("action") == "refresh":
        return _editor_page(module, fields, {}, question, based_on)
    opened = authoring.question_version(question, based_on) if based_on else None
    fields["moodle"] = moodle_only_summary(opened.content) if opened else []
    data = _keep_moodle_keys(_question_from_form(fields), opened.content if opened else None)
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
