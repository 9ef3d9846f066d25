"""Item analysis for trainers: which questions of a module quiz are too easy, too hard or misleading."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, make_response, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, RadioField, SelectChoice
from wtforms.validators import Optional

from trainer import clock
from trainer.analysis.histogram_svg import score_histogram_svg
from trainer.analysis.item_statistics import statistics_csv_rows
from trainer.extensions import db
from trainer.models import Module
from trainer.security import role_required
from trainer.services.exports import file_name_part, spreadsheet_csv_writer
from trainer.services.item_analysis import AttemptSelection, analyse_module
from trainer.spreadsheet_cells import defuse_formula
from trainer.views.downloads import file_download
from trainer.views.errors import error_response

bp = Blueprint("analysis", __name__, url_prefix="/author/analysis")


class SelectionForm(FlaskForm):
    """The attempts to analyse; sent with GET so a report has a URL a trainer can share."""

    class Meta:
        csrf = False  # reads only

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    attempts = RadioField("Attempts",
                          choices=[SelectChoice("first", "First attempts only"), SelectChoice("all", "All attempts")],
                          default="first")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.start.data and self.end.data and self.end.data < self.start.data:
            self.end.errors.append("The end date is before the start date.")
            return False
        return True

    def selection(self) -> AttemptSelection:
        return AttemptSelection(start=self.start.data, end=self.end.data,
                                first_attempts_only=self.attempts.data != "all")


def _module_or_404(module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    return module


def _selection_form() -> SelectionForm:
    form = SelectionForm(formdata=request.args)
    if not request.args.get("attempts"):
        form.attempts.data = "first"
    return form


#: The question editor's endpoint, by the names it has had; the module's bank page when none exists.
QUESTION_EDITOR_ENDPOINTS = ("author.question", "author.edit_question")


def editor_url(question_id: int, module_id: int) -> str:
    """The page where a trainer fixes the question: its editor when there is one, else its module's bank."""
    for endpoint in QUESTION_EDITOR_ENDPOINTS:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, question_id=question_id)
    return url_for("author.module", module_id=module_id)


@bp.route("/modules/<int:module_id>")
@role_required("trainer", "admin")
def module(module_id: int):
    module = _module_or_404(module_id)
    form = _selection_form()
    if not form.validate():
        return render_template("analysis/module.html", module=module, form=form, report=None), 400
    report = analyse_module(module, form.selection())
    quiz = report.analysis.quiz
    chart = Markup(score_histogram_svg(quiz.score_buckets, quiz.score_bucket_labels, "Scores of the analysed attempts"))
    flags: dict[str, list] = {}
    for flag in report.analysis.flags:
        flags.setdefault(flag.question_key, []).append(flag)
    return render_template("analysis/module.html", module=module, form=form, report=report, quiz=quiz, chart=chart,
                           flags=flags, editor_url=editor_url, csv_args=_selection_args(form))


@bp.route("/modules/<int:module_id>/statistics.csv")
@role_required("trainer", "admin")
def module_csv(module_id: int):
    module = _module_or_404(module_id)
    form = _selection_form()
    if not form.validate():
        problems = [error for f in form for error in f.errors]
        abort(make_response(error_response(400, " ".join(problems))))
    report = analyse_module(module, form.selection())
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads the file as UTF-8 only with a byte-order mark
    writer = spreadsheet_csv_writer(out)
    writer.writerows([[defuse_formula(cell) if isinstance(cell, str) else cell for cell in row]
                      for row in statistics_csv_rows(report.analysis)])
    name = f"item-analysis-{file_name_part(module.course.slug)}-{file_name_part(module.slug)}-{clock.now().date()}.csv"
    return file_download(out.getvalue().encode("utf-8"), name, "text/csv")


def _selection_args(form: SelectionForm) -> dict:
    args = {"attempts": form.attempts.data or "first"}
    if form.start.data:
        args["start"] = form.start.data.isoformat()
    if form.end.data:
        args["end"] = form.end.data.isoformat()
    return args


