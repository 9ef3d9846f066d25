"""Managers' personal API tokens: list them, create one (shown once), revoke one."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from trainer.security import can_use_manager_api
from trainer.services import ServiceError
from trainer.services.api_tokens import MAX_NAME_LENGTH, create_token, revoke_token, tokens_of
from trainer.views.forms import ActionForm

bp = Blueprint("tokens", __name__, url_prefix="/manage/tokens")


class NewTokenForm(FlaskForm):
    name = StringField("Name", validators=[
        DataRequired(message="Give the token a name, such as the system that will use it."),
        Length(max=MAX_NAME_LENGTH, message=f"Use at most {MAX_NAME_LENGTH} characters."),
    ])


@bp.before_request
def clinic_managers_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not can_use_manager_api(current_user):
        abort(403)


def render_token_list(form: NewTokenForm, status: int = 200):
    return render_template("tokens/index.html", tokens=tokens_of(current_user), form=form,
                           revoke_form=ActionForm()), status


@bp.route("")
def index():
    return render_token_list(NewTokenForm())


@bp.route("", methods=["POST"])
def create():
    form = NewTokenForm()
    if not form.validate_on_submit():
        return render_token_list(form, 400)
    try:
        token, plaintext = create_token(current_user, form.name.data)
    except ServiceError as exc:
        form.name.errors.append(str(exc))
        return render_token_list(form, 400)
    response = make_response(render_template("tokens/created.html", token=token, plaintext=plaintext))
    response.headers["Cache-Control"] = "no-store"  # the only time the token is shown; keep it out of caches
    return response


@bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    token = revoke_token(current_user, token_id)
    flash(f"The token “{token.name}” is revoked: programs using it are refused from now on.")
    return redirect(url_for("tokens.index"))
