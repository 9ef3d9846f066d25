"""Publishing, retiring, bringing back and moving questions: buttons that post and return."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from trainer.models import Question
from trainer.security import role_required
from trainer.services import Forbidden, ServiceError, authoring
from trainer.views.author.common import bp, question_or_404, whole_number

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
    question = question_or_404(question_id)
    number = whole_number(request.form.get("version", ""))
    key = question.key
    return _run(lambda: authoring.publish_question(current_user, question, number if isinstance(number, int) else None),
                question, f"Published {key}: new attempts now use its newest version.")


@bp.route("/questions/<int:question_id>/retire", methods=["POST"])
@role_required("trainer", "admin")
def retire_question(question_id: int):
    question = question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.set_retired(current_user, question, True), question,
                f"Retired {key}: it is no longer drawn; its versions and past answers are kept.")


@bp.route("/questions/<int:question_id>/unretire", methods=["POST"])
@role_required("trainer", "admin")
def unretire_question(question_id: int):
    question = question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.set_retired(current_user, question, False), question,
                f"{key} is back in the bank, at the end of the list.")


@bp.route("/questions/<int:question_id>/move/<any(up, down):direction>", methods=["POST"])
@role_required("trainer", "admin")
def move_question(question_id: int, direction: str):
    question = question_or_404(question_id)
    key = question.key
    return _run(lambda: authoring.move_question(current_user, question, direction), question,
                f"Moved {key} {direction}.")
