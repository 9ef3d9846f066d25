"""Forms shared by several blueprints."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."), Length(max=1000)])


class ActionForm(FlaskForm):
    """A form with no fields: a button that posts with a CSRF token."""


class ConfirmTextForm(FlaskForm):
    text = StringField("Text", validators=[DataRequired(), Length(max=1000)])
