"""A quiz preview that draws like an attempt and grades without recording anything."""
from __future__ import annotations

import random
import secrets

from flask import current_app, render_template, request
from itsdangerous import BadData, URLSafeSerializer

from trainer.models import Module
from trainer.quiz.review import question_review
from trainer.quiz.types import question_type
from trainer.rendering import render_markdown
from trainer.security import role_required
from trainer.services import NotFound, authoring
from trainer.views.author.common import bp, module_or_404
from trainer.views.errors import error_response
from trainer.views.learn import media_url

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
    module = module_or_404(module_id)
    drafts = request.args.get("drafts") == "1"
    items, notes = authoring.draw_preview(module, drafts, random.Random(secrets.randbits(64)))
    return _preview_page(module, items, drafts, notes)


@bp.route("/modules/<int:module_id>/preview", methods=["POST"])
@role_required("trainer", "admin")
def grade_preview(module_id: int):
    """Grade the previewed answers in memory: no attempt, no answer, no statistic is stored."""
    module = module_or_404(module_id)
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
    media = media_url(module.course)

    def render(md: str):
        return render_markdown(md, media)

    assert result.grade is not None  # graded whenever there are no problems
    reviews = []
    for item, fraction in zip(items, result.grade.fractions, strict=True):
        content = item.version.content
        # A trainer's preview shows everything, keys included.
        reviews.append({
            "position": item.position, "key": item.version.question.key, "number": item.version.number,
            "question_id": item.version.question_id, "draft": item.version.published_dt is None,
            **question_review(content, content["stem"], item.display_order, result.responses[item.position],
                              fraction, reveal_keys=True, render=render, sources=module.course.sources),
        })
    return render_template("author/preview_result.html", module=module, course=module.course, grade=result.grade,
                           reviews=reviews, drafts=drafts)
