"""The studio's reading pages: the banks, a module's questions, the review queue, a question's history."""
from __future__ import annotations

from flask import render_template

from trainer.rendering import render_markdown
from trainer.security import role_required
from trainer.services import authoring
from trainer.services.register import all_courses
from trainer.views.author.common import bp, module_or_404, question_or_404
from trainer.views.learn import media_url


@bp.route("/")
@role_required("trainer", "admin")
def index():
    counts = authoring.bank_counts()
    return render_template("author/index.html", courses=all_courses(), counts=counts.questions,
                           versions=counts.versions)


@bp.route("/modules/<int:module_id>")
@role_required("trainer", "admin")
def module(module_id: int):
    module = module_or_404(module_id)
    rows = authoring.module_questions(module)
    needs = authoring.draft_needs(module, rows)
    return render_template("author/module.html", module=module, course=module.course,
                           active=[r for r in rows if not r.question.retired],
                           retired=[r for r in rows if r.question.retired], needs=needs,
                           media=media_url(module.course), render_markdown=render_markdown)


# --- review queue ------------------------------------------------------------------------------------

@bp.route("/review")
@role_required("trainer", "admin")
def review_queue():
    """Drafts per module (imported ones that need review first), each with what it still lacks."""
    return render_template("author/review.html", queue=authoring.review_queue())


# --- version history ------------------------------------------------------------------------------

@bp.route("/questions/<int:question_id>/history")
@role_required("trainer", "admin")
def question_history(question_id: int):
    question = question_or_404(question_id)
    entries = authoring.version_history(question)
    in_use = next((e.version.number for e in entries if not e.is_draft), None)
    return render_template("author/history.html", question=question, module=question.module,
                           course=question.module.course, entries=entries, in_use=in_use)
