"""The trainer's pages: courses and banks, module content, quiz settings, the question editor,
version history, and a quiz preview that grades without recording anything.

Views parse the form, call trainer.services.authoring and render; the rules live in the service.
"""
from __future__ import annotations

import random
import re
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select

from trainer.banks.course_folder import cited_source_keys
from trainer.banks.publish_rules import publish_problems
from trainer.extensions import db
from trainer.models import Module, Question, QuestionVersion
from trainer.quiz.types import QUESTION_TYPES, question_type
from trainer.rendering import render_markdown
from trainer.security import role_required
from trainer.services import Forbidden, NotFound, ServiceError, authoring
from trainer.services.attempts import current_versions
from trainer.services.register import all_courses
from trainer.views.errors import error_response
from trainer.views.learn import media_url

bp = Blueprint("author", __name__, url_prefix="/author")

#: Empty rows the editor offers after the filled ones (press "Update the form" for more).
BLANK_ROWS = 3
MIN_ROWS = {"choices": 4, "pairs": 3, "order": 3, "answers": 2}
#: Rows read from a posted form; more than this is not a question anyone writes by hand.
MAX_ROWS = 100
_ROW_FIELD = re.compile(r"^(choices|pairs|order|answers)-(\d{1,3})(?:-(text|correct|feedback|left|right))?$")


def _module_or_404(module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    return module


def _question_or_404(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


def _one_line(value) -> str:
    return (value or "").strip()


def _multi_line(value) -> str:
    # Browsers send textareas with CRLF; versions store LF so an unchanged save adds no version.
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def _whole_number(text: str):
    """A whole number, None when blank, or the text itself so the rules can say what is wrong."""
    text = text.strip()
    if text == "":
        return None
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else text


# --- pages ---------------------------------------------------------------------------------------

@bp.route("/")
@role_required("trainer", "admin")
def index():
    counts = dict(db.session.execute(
        select(Question.module_id, func.count()).where(Question.retired.is_(False)).group_by(Question.module_id)
    ).all())
    versions = dict(db.session.execute(
        select(Question.module_id, func.count(QuestionVersion.id)).join(QuestionVersion)
        .group_by(Question.module_id)
    ).all())
    return render_template("author/index.html", courses=all_courses(), counts=counts, versions=versions)


@bp.route("/modules/<int:module_id>")
@role_required("trainer", "admin")
def module(module_id: int):
    module = _module_or_404(module_id)
    rows = authoring.module_questions(module)
    sources = module.course.sources or None
    # What each draft still lacks before it may be published (the same rules as the Publish button).
    needs = {r.question.id: [p.message for p in publish_problems(r.newest.content, sources)]
             for r in rows if r.has_draft}
    return render_template("author/module.html", module=module, course=module.course,
                           active=[r for r in rows if not r.question.retired],
                           retired=[r for r in rows if r.question.retired], needs=needs,
                           media=media_url(module.course), render_markdown=render_markdown)


# --- module content ------------------------------------------------------------------------------

def _content_page(module: Module, content_md: str, problems: list[str], preview: bool, status: int = 200):
    rendered = render_markdown(content_md, media_url(module.course)) if preview else None
    return render_template("author/content.html", module=module, course=module.course, content_md=content_md,
                           problems=problems, rendered=rendered), status


@bp.route("/modules/<int:module_id>/content")
@role_required("trainer", "admin")
def edit_content(module_id: int):
    module = _module_or_404(module_id)
    return _content_page(module, module.content_md, authoring.module_content_problems(module, module.content_md),
                         preview=True)


@bp.route("/modules/<int:module_id>/content", methods=["POST"])
@role_required("trainer", "admin")
def save_content(module_id: int):
    """Preview (render and check, save nothing) or save the module's Markdown."""
    module = _module_or_404(module_id)
    if "content_md" not in request.form:
        return _content_page(module, module.content_md, ["The form sent no content; nothing was saved."],
                             preview=False, status=400)
    content_md = _multi_line(request.form["content_md"])
    if request.form.get("action") == "preview":
        return _content_page(module, content_md, authoring.module_content_problems(module, content_md), preview=True)
    try:
        changed = authoring.update_module_content(current_user, module, content_md)
    except authoring.InvalidInput as exc:
        return _content_page(module, content_md, exc.problems["content_md"], preview=True, status=400)
    except Forbidden:
        abort(403)
    flash("The module content is saved." if changed else "No changes to save.", "success")
    return redirect(url_for("author.module", module_id=module.id))


# --- quiz settings -------------------------------------------------------------------------------

def _format_draw_by_tag(value: dict) -> str:
    return ", ".join(f"{tag}: {n}" for tag, n in (value or {}).items())


def _parse_draw_by_tag(text: str):
    """ "safety: 2, devices: 1" -> {"safety": 2, "devices": 1}; the text itself when it is not that shape."""
    result = {}
    for part in text.split(","):
        if not part.strip():
            continue
        tag, colon, number = part.partition(":")
        if not colon or not tag.strip() or tag.strip() in result or not re.fullmatch(r"\d{1,9}", number.strip()):
            return text
        result[tag.strip()] = int(number.strip())
    return result


def _quiz_form_from_module(module: Module) -> dict[str, str]:
    return {
        "draw": str(module.draw), "draw_by_tag": _format_draw_by_tag(module.draw_by_tag),
        "pass_percent": str(module.pass_percent),
        "time_limit_minutes": "" if module.time_limit_minutes is None else str(module.time_limit_minutes),
        "attempts_before_cooldown": str(module.attempts_before_cooldown), "cooldown_hours": str(module.cooldown_hours),
        "show_answers": module.show_answers,
    }


def _quiz_page(module: Module, values: dict, problems: dict, status: int = 200):
    pool = current_versions(module)
    tags: dict[str, int] = {}
    for _, version in pool:
        for tag in version.content.get("tags") or []:
            tags[tag] = tags.get(tag, 0) + 1
    return render_template("author/quiz.html", module=module, course=module.course, values=values, problems=problems,
                           published=len(pool), tags=sorted(tags.items())), status


@bp.route("/modules/<int:module_id>/quiz")
@role_required("trainer", "admin")
def edit_quiz(module_id: int):
    module = _module_or_404(module_id)
    return _quiz_page(module, _quiz_form_from_module(module), {})


@bp.route("/modules/<int:module_id>/quiz", methods=["POST"])
@role_required("trainer", "admin")
def save_quiz(module_id: int):
    module = _module_or_404(module_id)
    values = {key: _one_line(request.form.get(key)) for key in authoring.QUIZ_FIELDS}
    settings = {key: _whole_number(values[key]) for key in
                ("draw", "pass_percent", "time_limit_minutes", "attempts_before_cooldown", "cooldown_hours")}
    settings["draw_by_tag"] = _parse_draw_by_tag(values["draw_by_tag"])
    settings["show_answers"] = values["show_answers"]
    try:
        changed = authoring.update_quiz_settings(current_user, module, settings)
    except authoring.InvalidInput as exc:
        return _quiz_page(module, values, exc.problems, status=400)
    except Forbidden:
        abort(403)
    flash("The quiz settings are saved." if changed else "No changes to save.", "success")
    return redirect(url_for("author.module", module_id=module.id))


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
                     "feedback": text(c.get("feedback"))}
                    for c in content.get("choices") or [] if isinstance(c, dict)],
        "scoring": text(content.get("scoring") or "all_or_nothing"),
        "answer": {True: "true", False: "false"}.get(content["answer"], "") if "answer" in content else "",
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
    choices = [{"text": _one_line(r.get("text")), "correct": "correct" in r, "feedback": _one_line(r.get("feedback"))}
               for _, r in sorted(rows["choices"].items())]
    pairs = [{"left": _one_line(r.get("left")), "right": _one_line(r.get("right"))}
             for _, r in sorted(rows["pairs"].items())]
    return {
        "moodle": [],
        "id": _one_line(form.get("id")), "type": _one_line(form.get("type")),
        "stem": _multi_line(form.get("stem")), "explanation": _multi_line(form.get("explanation")),
        "feedback": _multi_line(form.get("feedback")), "source": _one_line(form.get("source")),
        "tags": _one_line(form.get("tags")), "difficulty": _one_line(form.get("difficulty")),
        "critical": bool(form.get("critical")),
        "choices": [c for c in choices if c["text"] or c["feedback"] or c["correct"]],
        "scoring": _one_line(form.get("scoring")) or "all_or_nothing",
        "answer": _one_line(form.get("answer")),
        "pairs": [p for p in pairs if p["left"] or p["right"]],
        "order": [v for _, r in sorted(rows["order"].items()) if (v := _one_line(r.get("value")))],
        "answers": [v for _, r in sorted(rows["answers"].items()) if (v := _one_line(r.get("value")))],
    }


def _question_from_form(fields: dict) -> dict:
    """The question dict the bank format defines, from the editor's fields (the service normalises it)."""
    question = {
        "id": fields["id"], "type": fields["type"], "stem": fields["stem"], "explanation": fields["explanation"],
        "feedback": fields["feedback"], "source": fields["source"],
        "tags": [t.strip() for t in fields["tags"].split(",") if t.strip()],
        "difficulty": _whole_number(fields["difficulty"]), "critical": True if fields["critical"] else None,
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
    module = _module_or_404(module_id)
    kind = request.args.get("type", "single")
    fields = _question_form_from_content({"type": kind if kind in QUESTION_TYPES else "single"})
    return _editor_page(module, fields, {})


@bp.route("/modules/<int:module_id>/questions", methods=["POST"])
@role_required("trainer", "admin")
def add_question(module_id: int):
    module = _module_or_404(module_id)
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
    question = _question_or_404(question_id)
    newest = authoring.newest_version(question)
    fields = _question_form_from_content(newest.content if newest else {"id": question.key})
    return _editor_page(question.module, fields, {}, question, based_on=newest.number if newest else None)


@bp.route("/questions/<int:question_id>", methods=["POST"])
@role_required("trainer", "admin")
def save_question(question_id: int):
    """Save the edited question as a new draft version (or re-show the form with its problems)."""
    question = _question_or_404(question_id)
    module = question.module
    fields = {**_question_form_from_request(request.form), "id": question.key}
    based_on = _whole_number(request.form.get("based_on", ""))
    based_on = based_on if isinstance(based_on, int) else None
    if request.form.get("action") == "refresh":
        return _editor_page(module, fields, {}, question, based_on)
    opened = db.session.scalar(select(QuestionVersion).where(QuestionVersion.question_id == question.id,
                                                             QuestionVersion.number == based_on)) if based_on else None
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


# --- review queue ------------------------------------------------------------------------------------

@bp.route("/review")
@role_required("trainer", "admin")
def review_queue():
    """Drafts per module (imported ones that need review first), each with what it still lacks."""
    return render_template("author/review.html", queue=authoring.review_queue())


# --- publishing, retiring, ordering ---------------------------------------------------------------

def _back(question: Question):
    """Where a button on the module page or the editor returns to (a fixed choice, never a URL)."""
    if request.form.get("back") == "question":
        return redirect(url_for("author.edit_question", question_id=question.id))
    return redirect(url_for("author.module", module_id=question.module_id) + f"#question-{question.id}")


def _run(action, question: Question, done: str):
    try:
        changed = action()
    except Forbidden:
        abort(403)
    except ServiceError as exc:
        flash(str(exc), "error")
        return _back(question)
    if changed:
        flash(done, "success")
    return _back(question)


@bp.route("/questions/<int:question_id>/publish", methods=["POST"])
@role_required("trainer", "admin")
def publish_question(question_id: int):
    question = _question_or_404(question_id)
    number = _whole_number(request.form.get("version", ""))
    key = question.key
    return _run(lambda: authoring.publish_question(current_user, question, number if isinstance(number, int) else None),
                question, f"Published {key}: new attempts now use its newest version.")


@bp.route("/questions/<int:question_id>/retire", methods=["POST"])
@role_required("trainer", "admin")
def retire_question(question_id: int):
    question = _question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.set_retired(current_user, question, True), question,
                f"Retired {key}: it is no longer drawn; its versions and past answers are kept.")


@bp.route("/questions/<int:question_id>/unretire", methods=["POST"])
@role_required("trainer", "admin")
def unretire_question(question_id: int):
    question = _question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.set_retired(current_user, question, False), question,
                f"{key} is back in the bank, at the end of the list.")


@bp.route("/questions/<int:question_id>/move/<any(up, down):direction>", methods=["POST"])
@role_required("trainer", "admin")
def move_question(question_id: int, direction: str):
    question = _question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.move_question(current_user, question, direction), question,
                f"Moved {key} {direction}.")


# --- version history ------------------------------------------------------------------------------

@bp.route("/questions/<int:question_id>/history")
@role_required("trainer", "admin")
def question_history(question_id: int):
    question = _question_or_404(question_id)
    entries = authoring.version_history(question)
    in_use = next((e.version.number for e in entries if not e.is_draft), None)
    return render_template("author/history.html", question=question, module=question.module,
                           course=question.module.course, entries=entries, in_use=in_use)


# --- quiz preview ----------------------------------------------------------------------------------

def _preview_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="quiz-preview")


def _drawn_token(module: Module, items: list[authoring.PreviewItem], drafts: bool) -> str:
    return _preview_serializer().dumps({"module": module.id, "drafts": drafts,
                                        "items": [[i.version.id, i.display_order] for i in items]})


def _read_drawn_token(module: Module, token: str) -> tuple[list[tuple[int, object]], bool] | None:
    """The (version id, display order) pairs the preview page was drawn with; None if tampered or foreign."""
    try:
        data = _preview_serializer().loads(token)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("module") != module.id or not isinstance(data.get("items"), list):
        return None
    items = data["items"]
    if not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], int) for i in items):
        return None
    return [(version_id, order) for version_id, order in items], bool(data.get("drafts"))


def _preview_questions(module: Module, items, responses: dict, problems: dict) -> list[dict]:
    """What the attempt page shows for each question (see learn._question_views), with the answers given."""
    media = media_url(module.course)
    views = []
    for item in items:
        content, order = item.version.content, item.display_order
        qtype = question_type(content["type"])
        views.append({
            "position": item.position, "type": qtype.name, "label": qtype.label,
            "stem": render_markdown(content["stem"], media), "view": qtype.view(content, order),
            "values": qtype.form_values(content, order, responses.get(item.position)),
            "problem": problems.get(item.position), "key": item.version.question.key,
            "number": item.version.number, "draft": item.version.published_dt is None,
        })
    return views


def _preview_page(module: Module, items, drafts: bool, notes: list[str], responses=None, problems=None,
                  status: int = 200):
    return render_template(
        "author/preview.html", module=module, course=module.course, drafts=drafts, notes=notes,
        questions=_preview_questions(module, items, responses or {}, problems or {}),
        drawn=_drawn_token(module, items, drafts) if items else "",
    ), status


@bp.route("/modules/<int:module_id>/preview")
@role_required("trainer", "admin")
def preview_quiz(module_id: int):
    """Draw a quiz as a new attempt would (published versions, or drafts too with ?drafts=1)."""
    module = _module_or_404(module_id)
    drafts = request.args.get("drafts") == "1"
    items, notes = authoring.draw_preview(module, drafts, random.Random(secrets.randbits(64)))
    return _preview_page(module, items, drafts, notes)


@bp.route("/modules/<int:module_id>/preview", methods=["POST"])
@role_required("trainer", "admin")
def grade_preview(module_id: int):
    """Grade the previewed answers in memory: no attempt, no answer, no statistic is stored."""
    module = _module_or_404(module_id)
    drawn = _read_drawn_token(module, request.form.get("drawn", ""))
    if drawn is None:
        return error_response(400, "This preview form is not valid (it was changed, or belongs to another quiz). "
                                   "Start a new preview.")
    pairs, drafts = drawn
    try:
        items = authoring.load_preview(module, pairs)
    except NotFound:
        return error_response(400, "This preview's questions are not part of this module. Start a new preview.")
    result = authoring.grade_preview(module, items, request.form)
    if result.problems:
        return _preview_page(module, items, drafts, [], result.responses, result.problems, status=400)
    assert result.grade is not None  # graded whenever there are no problems
    media = media_url(module.course)
    reviews = []
    for item, fraction in zip(items, result.grade.fractions, strict=True):
        content = item.version.content
        qtype = question_type(content["type"])
        reviews.append({
            "position": item.position, "key": item.version.question.key, "number": item.version.number,
            "question_id": item.version.question_id, "draft": item.version.published_dt is None,
            "stem": render_markdown(content["stem"], media), "fraction": fraction, "correct": fraction >= 1.0,
            "explanation": render_markdown(content.get("explanation", "(none yet: this draft needs review)"), media),
            "feedback": render_markdown(content["feedback"], media) if content.get("feedback") else None,
            "source": "; ".join(module.course.sources.get(k, {}).get("citation", k)
                                for k in cited_source_keys(content.get("source", ""))),
            "review": qtype.review(content, item.display_order, result.responses[item.position]),
            "critical": bool(content.get("critical")),
        })
    return render_template("author/preview_result.html", module=module, course=module.course, grade=result.grade,
                           reviews=reviews, drafts=drafts)
