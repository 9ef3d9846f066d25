"""Signing in and out, and sending each person to their home page."""
from __future__ import annotations

from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from joserfc.errors import JoseError

from trainer.security import has_role
from trainer.services import NotFound, ServiceError
from trainer.services.accounts import SignInRefused, authenticate, change_password, end_sessions
from trainer.services.password_reset import (
    ResetThrottled,
    complete_password_reset,
    open_password_reset,
    request_password_reset,
)
from trainer.services.sso import SsoRefused, sign_in_with_provider
from trainer.services.staff import accept_invitation as accept_invitation_service
from trainer.services.staff import open_invitation
from trainer.sessions import close_session, open_session
from trainer.sso import callback_url, sso_client
from trainer.views.errors import wants_json
from trainer.views.forms import (
    AcceptInvitationForm,
    ActionForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)

bp = Blueprint("auth", __name__)


def home_url_for(user) -> str:
    if has_role(user, "learner"):
        return url_for("learn.home")
    if has_role(user, "manager"):
        return url_for("manage.register")
    if has_role(user, "trainer"):
        return url_for("author.index")
    if has_role(user, "admin"):
        return url_for("admin.index")
    return url_for("auth.login")


def _safe_next(target: str | None) -> str | None:
    # Only follow a `next` that stays on this site.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.record_once
def _setup_unauthorized(state):
    from trainer.extensions import login_manager

    login_manager.unauthorized_handler(signed_out_response)


# The quiz's posts: one arriving after the session ended must not lose the learner's way back.
ATTEMPT_POSTS = frozenset({"learn.save_and_continue", "learn.submit", "learn.save_answer"})


def signed_out_response():
    """Tell a request whose session has ended to sign in again: JSON 401 for scripts, else the sign-in page."""
    # A quiz page's autosave must learn that the session ended, not follow a redirect to HTML.
    if wants_json():
        return jsonify(error="You are signed out. Sign in again; your saved answers are kept.", status=401), 401
    flash("Sign in to continue.")
    return redirect(url_for("auth.login", next=_return_path()))


def _return_path() -> str:
    if request.method == "POST" and request.endpoint in ATTEMPT_POSTS and request.view_args:
        # The form itself cannot be replayed after sign-in: land on the attempt, which says what happened
        # and restores the answers the page kept in the browser.
        action = "submit" if request.endpoint == "learn.submit" or request.form.get("action") == "submit" else "save"
        return url_for("learn.attempt", attempt_id=request.view_args["attempt_id"], interrupted=action)
    return request.full_path.rstrip("?")


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    status = 200
    if not current_app.config["PASSWORD_SIGNIN"]:
        if request.method == "POST":
            flash(f"Password sign-in is turned off here. Sign in with {current_app.config['OIDC_PROVIDER_NAME']}.")
            status = 403
        return _login_page(form), status
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except SignInRefused as exc:
            form.password.errors.append(str(exc))
            status = 401
        else:
            open_session(user)
            return redirect(_safe_next(request.args.get("next")) or home_url_for(user))
    elif request.method == "POST":
        status = 400
    return _login_page(form), status


def _login_page(form) -> str:
    return render_template("auth/login.html", form=form, password_signin=current_app.config["PASSWORD_SIGNIN"],
                           sso_name=current_app.config["OIDC_PROVIDER_NAME"] if sso_client() else None)


# Errors of the provider round trip: Authlib's (state, token endpoint), joserfc's (ID token), the network's.
_PROVIDER_ERRORS = (AuthlibBaseError, JoseError, requests.RequestException)


def _sso_failed(message: str, status: int):
    return render_template("auth/sso_failed.html", message=message), status


@bp.route("/login/sso")
def sso_start():
    """Send the browser to the identity provider (authorization code flow with PKCE, state and nonce)."""
    client = sso_client()
    if client is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    session["sso_next"] = _safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(callback_url())
    except _PROVIDER_ERRORS:
        current_app.logger.exception("single sign-on: the identity provider could not be reached")
        return _sso_failed("The identity provider could not be reached. Try again in a minute.", 503)


@bp.route("/login/sso/callback")
def sso_callback():
    """The provider sends the browser back here: check state, exchange the code, validate the ID token, sign in."""
    client = sso_client()
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token()
    except _PROVIDER_ERRORS as exc:
        # A stale or replayed link (state not in this browser's session), a refusal at the provider,
        # or an ID token that fails validation: nothing is signed in.
        current_app.logger.warning("single sign-on refused: %s", exc)
        return _sso_failed("The sign-in could not be completed (it may have been used already, or started in "
                           "another browser). Start again from the sign-in page.", 400)
    claims = token.get("userinfo")
    if not claims:
        return _sso_failed("The identity provider did not send an ID token. Start again from the sign-in page.", 400)
    try:
        user = sign_in_with_provider(dict(claims), request.remote_addr)
    except SsoRefused as exc:
        return _sso_failed(str(exc), 403)
    next_path = session.get("sso_next")
    open_session(user)
    return redirect(next_path or home_url_for(user))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if ActionForm().validate_on_submit():
        # Revoked server-side: a copy of this cookie (or any other session of the account) stops working.
        person = current_user._get_current_object()
        end_sessions(person, person, "sign-out")
        close_session()
        flash("You are signed out. Any quiz you were taking is saved; sign in to carry on.")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Change one's password; a link to end every other session."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        person = current_user._get_current_object()
        try:
            change_password(person, form.current_password.data, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(str(exc))
        else:
            open_session(person)  # this browser carries on under the new generation
            flash("Your password is changed. Every other session of your account has ended.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 400 if form.errors else 200


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_other_sessions():
    if ActionForm().validate_on_submit():
        person = current_user._get_current_object()
        end_sessions(person, person, "sign-out-everywhere-else")
        open_session(person)
        flash("Every other session of your account has ended; this browser stays signed in.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The invitee sets their own password; the link works once and expires."""
    try:
        invitation = open_invitation(token)
    except NotFound as exc:
        return render_template("auth/invitation_closed.html", message=str(exc)), 404
    except ServiceError as exc:
        return render_template("auth/invitation_closed.html", message=str(exc)), 410
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = accept_invitation_service(token, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(str(exc))
        else:
            open_session(user)
            flash(f"Welcome, {user.name}. Your account is ready.", "success")
            return redirect(home_url_for(user))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation), 400 if form.errors else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            request_password_reset(form.email.data, request.remote_addr)
        except ResetThrottled as exc:
            form.email.errors.append(str(exc))
            return render_template("auth/forgot_password.html", form=form), 429
        return render_template("auth/forgot_password_sent.html", email=form.email.data.strip())
    return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a link in an e-mail; the link works once, for 30 minutes."""
    try:
        reset = open_password_reset(token)
    except NotFound as exc:
        return render_template("auth/reset_closed.html", message=str(exc)), 404
    except ServiceError as exc:
        return render_template("auth/reset_closed.html", message=str(exc)), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            complete_password_reset(token, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(str(exc))
        else:
            if current_user.is_authenticated:
                close_session()
            flash("Your password is changed and every session of your account has ended. Sign in with the new "
                  "password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, person=reset.user), 400 if form.errors else 200
