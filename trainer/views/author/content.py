"""Editing a module's Markdown content, with a sanitised preview."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.models import Module
from trainer.rendering import render_markdown
from trainer.security import role_required
from trainer.services import Forbidden, authoring
from trainer.views.author.common import bp, module_or_404, multi_line
from trainer.views.learn import media_url

# --- module content ------------------------------------------------------------------------------

def _content_page(module: Module, content_md: str, problems: list[str], preview: bool, status: int = 200):
    rendered = render_markdown(content_md, media_url(module.course)) if preview else None
    return render_template("author/content.html", module=module, course=module.course, content_md=content_md,
                           problems=problems, rendered=rendered), status


@bp.route("/modules/<int:module_id>/content")
@role_required("trainer", "admin")
def edit_content(module_id: int):
    module = module_or_404(module_id)
    return _content_page(module, module.content_md, authoring.module_content_problems(module, module.content_md),
                         preview=True)


@bp.route("/modules/<int:module_id>/content", methods=["POST"])
@role_required("trainer", "admin")
def save_content(module_id: int):
    """Preview (render and check, save nothing) or save the module's Markdown."""
    module = module_or_404(module_id)
    if "content_md" not in request.form:
        return _content_page(module, module.content_md, ["The form sent no content; nothing was saved."],
                             preview=False, status=400)
    content_md = multi_line(request.form["content_md"])
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
