"""Editing a module's quiz settings (draw, draw per tag, pass mark, time limit, retakes)."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.models import Module
from trainer.security import role_required
from trainer.services import Forbidden, authoring
from trainer.services.attempts import current_versions
from trainer.views.author.common import bp, module_or_404, one_line, whole_number

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
    module = module_or_404(module_id)
    return _quiz_page(module, _quiz_form_from_module(module), {})


@bp.route("/modules/<int:module_id>/quiz", methods=["POST"])
@role_required("trainer", "admin")
def save_quiz(module_id: int):
    module = module_or_404(module_id)
    values = {key: one_line(request.form.get(key)) for key in authoring.QUIZ_FIELDS}
    settings = {key: whole_number(values[key]) for key in
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
