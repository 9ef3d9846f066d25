"""Forms shared by several blueprints."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FileField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."), Length(max=1000)])


class ActionForm(FlaskForm):
    """A form with no fields: a button that posts with a CSRF token."""


class AccommodationsForm(FlaskForm):
    time_multiplier = SelectField("Extra time",
                                  choices=[SelectChoice("1.0", "None"), SelectChoice("1.5", "x1.5"),
                                           SelectChoice("2.0", "x2")])
    extra_attempts = IntegerField("Extra attempts before a cooldown", default=0,
                                  validators=[NumberRange(min=0, max=10, message="Choose 0 to 10.")])


class AssignForm(FlaskForm):
    course = SelectField("Course", validators=[DataRequired()])
    due = DateField("Due date", validators=[DataRequired(message="Choose the due date.")])
    people = SelectMultipleField("People", coerce=int)
    whole_clinic = SelectField("Assign to", choices=[SelectChoice("chosen", "The people ticked in the register above"),
                                                            SelectChoice("all", "Everyone in the clinic")])


class InviteForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(message="Enter the person's name."), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(message="Enter the email address."), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("learner", "Practitioner"),
                                            SelectChoice("manager", "Manager (also takes the training)")])


class AcceptInvitationForm(FlaskForm):
    password = PasswordField("Choose a password",
                             validators=[DataRequired(message="Choose a password."),
                                         Length(min=12, max=1000, message="Use at least 12 characters.")])
    confirm = PasswordField("Type it again", validators=[EqualTo("password", message="The two passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired(message="Enter your current password."),
                                                                     Length(max=1000)])
    password = PasswordField("New password", validators=[DataRequired(message="Choose a new password."),
                                                         Length(min=12, max=1000,
                                                                message="Use at least 12 characters.")])
    confirm = PasswordField("Type it again", validators=[EqualTo("password", message="The two passwords differ.")])


class ClinicForm(FlaskForm):
    """Add a clinic (name and time zone) or rename one (name only); the service checks both."""

    name = StringField("Clinic name", validators=[DataRequired(message="Give the clinic a name."),
                                                  Length(max=100, message="A clinic name has at most 100 characters.")])


#: How each role is offered on the account form.
ROLE_LABELS = {"learner": "Practitioner (takes the training)", "manager": "Manager (their clinic's register)",
               "assessor": "Assessor (verifies logbooks, signs off DOPS)", "trainer": "Trainer (writes courses)",
               "admin": "Admin (clinics, accounts, the audit trail)"}


class AccountForm(FlaskForm):
    """An account's name, email, clinic and roles; the view fills the choices the actor may give."""

    name = StringField("Full name", validators=[DataRequired(message="Enter the person's name."),
                                                Length(max=200, message="A name has at most 200 characters.")])
    email = EmailField("Email", validators=[DataRequired(message="Enter the email address."), Length(max=254)])
    clinic = SelectField("Clinic", choices=[])
    roles = SelectMultipleField("Roles", choices=[], widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())


class StaffImportForm(FlaskForm):
    file = FileField("Staff file (CSV or XLSX)")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(message="Choose a new password."),
                                                         Length(min=12, max=1000,
                                                                message="Use at least 12 characters.")])
    confirm = PasswordField("Type it again", validators=[EqualTo("password", message="The two passwords differ.")])


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(message="Give the reason."), Length(min=5, max=1000)])


class CaseForm(FlaskForm):
    """A supervised treatment; the service checks every field and says what to fix."""

    treated_on = StringField("Date of treatment", render_kw={"type": "date"})
    client_ref = StringField("Client reference (anonymised, never a name)", render_kw={"placeholder": "C-1042"})
    fitzpatrick = SelectField("Fitzpatrick skin type", choices=[SelectChoice("", "Choose")] + [
        SelectChoice(n, n) for n in ("I", "II", "III", "IV", "V", "VI")])
    indication = SelectField("Indication", choices=[])
    areas = TextAreaField("Areas and needle depth (one per line, 'area: mm')",
                          render_kw={"rows": 3, "placeholder": "cheeks: 1.0\nforehead: 0.5"})
    device = StringField("Device")
    cartridge_lot = StringField("Cartridge lot number")
    rescreen_done = BooleanField("Contraindications re-screened before this session")
    consent_recorded = BooleanField("Consent recorded")
    glide = StringField("Glide medium used")
    aftercare_given = BooleanField("Aftercare instructions given")
    adverse_event = StringField("Adverse event (leave empty if none)")
    adverse_action = StringField("Action taken for the adverse event")
    notes = TextAreaField("Notes", render_kw={"rows": 3})
    supervisor = StringField("Supervised by")


class ReviewForm(FlaskForm):
    decision = SelectField("Decision",
                           choices=[SelectChoice("verify", "Verify"), SelectChoice("return", "Return to the learner")])
    comment = TextAreaField("Comment (required when returning)", render_kw={"rows": 2})


class RegistrationForm(FlaskForm):
    assessor = SelectField("Person", coerce=int, choices=[])
    body = StringField("Registering body (e.g. NMC, GMC, state board)")
    number = StringField("Registration number / PIN / licence")
    expires_on = StringField("Registration expires on", render_kw={"type": "date"})
    clinics = SelectMultipleField("Clinics they assess in", coerce=int, choices=[])


class PhotoForm(FlaskForm):
    photo = FileField("Photo (JPEG, PNG or WebP, at most 8 MB)")
    consent = BooleanField("The client consented to this photograph")
