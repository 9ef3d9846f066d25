"""The trainer's pages: courses, modules and banks with question counts and versions."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.models import Module, Question, QuestionVersion
from trainer.rendering import render_markdown
from trainer.security import role_required
from trainer.services.attempts import current_versions
from trainer.services.register import all_courses

bp = Blueprint("author", __name__, url_prefix="/author")


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
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    questions = current_versions(module)
    return render_template("author/module.html", module=module, questions=questions,
                           render_markdown=render_markdown)
