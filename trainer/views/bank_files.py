"""Bank files in the browser: upload a course ZIP, a GIFT, CSV or Moodle XML file; download courses and banks.

Uploads go through the same checks and the same import services as `flask banks import`.
A course ZIP imports all or nothing. A bank file imports question by question: questions that
cannot be graded here are listed by line and left out, questions missing what the course
requires become drafts that need review (listed too). Problems are `path:line: message`
with paths relative to the upload. A course ZIP is unpacked into a temporary folder only after every
entry has been checked (no absolute paths, no `..`, no links, bounded count and size).
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectChoice, SelectField
from wtforms.validators import DataRequired

from trainer import clock
from trainer.banks.course_folder import load_course
from trainer.banks.course_zip import (
    MAX_ZIP_ENTRIES,
    MAX_ZIP_UNCOMPRESSED_BYTES,
    UnsafeArchive,
    course_folder_in,
    extract_course_zip,
)
from trainer.banks.records import BankFormatError, BankProblem
from trainer.banks.yaml_bank import MAX_FILE_BYTES
from trainer.extensions import db
from trainer.models import Course, Module
from trainer.security import role_required
from trainer.services import ServiceError
from trainer.services.attempts import current_versions
from trainer.services.catalog import import_courses
from trainer.services.exports import file_name_part
from trainer.services.interchange import (
    EXTENSIONS,
    bank_file_text,
    decode_bank_bytes,
    export_course,
    find_module,
    import_bank_file,
    read_bank_file,
)
from trainer.views.downloads import file_download

bp = Blueprint("bank_files", __name__, url_prefix="/author/files")

BANK_FORMATS = {"gift": "GIFT", "csv": "CSV", "moodlexml": "Moodle XML"}
FORMAT_LABELS = {"yaml": "YAML", **BANK_FORMATS}


class CourseUploadForm(FlaskForm):
    archive = FileField("Course folder as a ZIP file", validators=[FileRequired("Choose a ZIP file.")])


class BankUploadForm(FlaskForm):
    module = SelectField("Into module", validators=[DataRequired("Choose the module the questions go into.")])
    bank = FileField("Bank file", validators=[FileRequired("Choose a file.")])


# --- pages -------------------------------------------------------------------------------


def _modules() -> list[tuple[Course, Module]]:
    return [(c, m) for c, m in db.session.execute(
        select(Course, Module).join(Module, Module.course_id == Course.id)
        .where(Module.retired.is_(False)).order_by(Course.title, Course.id, Module.position)
    ).all()]


def _forms() -> dict[str, FlaskForm]:
    modules = _modules()
    choices = [SelectChoice("", "Choose a module")] + [SelectChoice(f"{c.slug}/{m.slug}", f"{c.title} › {m.title}")
                                                     for c, m in modules]
    forms = {"course": CourseUploadForm(prefix="course")}
    for file_format, label in BANK_FORMATS.items():
        form = BankUploadForm(prefix=file_format)
        form.module.choices = choices
        form.bank.label.text = f"{label} file"
        forms[file_format] = form
    return forms


#: Largest bank file accepted per format: ten times the shipped course's largest bank, small
#: enough that parsing one never ties up a worker for long.
# Moodle XML carries its images as base64, so it may be larger than a text-only bank.
MAX_BANK_UPLOAD_BYTES = {"gift": 512 * 1024, "csv": 512 * 1024, "moodlexml": MAX_FILE_BYTES}
#: Problems listed on the page; the rest are counted (a broken 2 MiB file lists thousands).
MAX_LISTED_PROBLEMS = 100


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return problems
    hidden = len(problems) - MAX_LISTED_PROBLEMS
    return problems[:MAX_LISTED_PROBLEMS] + [f"… and {hidden:,} more problem{'s' if hidden != 1 else ''} not listed "
                                            "here; run `flask banks validate` on the file for all of them."]


def _page(status: int = 200, problems_for: str | None = None, problems: list[str] | None = None,
          download_problem: str | None = None, forms: dict | None = None, report=None, left_out=None):
    modules = _modules()
    courses: dict[int, tuple[Course, list[Module]]] = {}
    for course, module in modules:
        courses.setdefault(course.id, (course, []))[1].append(module)
    return render_template("bank_files/index.html", forms=forms or _forms(), courses=list(courses.values()),
                           problems_for=problems_for, problems=_listed(problems or []),
                           problem_count=len(problems or []),
                           download_problem=download_problem, report=report, left_out=left_out,
                           formats=BANK_FORMATS, max_zip_mib=MAX_ZIP_UNCOMPRESSED_BYTES // (1024 * 1024),
                           max_entries=MAX_ZIP_ENTRIES,
                           max_bank_kib=min(MAX_BANK_UPLOAD_BYTES.values()) // 1024), status


@bp.route("/")
@role_required("trainer", "admin")
def index():
    return _page()


@bp.route("/course", methods=["POST"])
@role_required("trainer", "admin")
def upload_course():
    forms = _forms()
    form = forms["course"]
    if not form.validate_on_submit():
        return _page(400, forms=forms)
    upload = form.archive.data
    name = _upload_name(upload.filename, "course.zip")
    with tempfile.TemporaryDirectory(prefix="trainer-upload-") as tmp:
        root = Path(tmp)
        try:
            extract_course_zip(upload.stream, root)
            folder = course_folder_in(root)
        except UnsafeArchive as exc:
            return _page(400, "course", [f"{name}: {exc}"], forms=forms)
        try:
            spec = load_course(folder)
        except BankFormatError as exc:
            return _page(400, "course", [_relative(problem, root) for problem in exc.problems], forms=forms)
    try:
        [report] = import_courses(current_user, [spec], origin="upload")
    except (BankFormatError, ServiceError) as exc:
        return _page(400, "course", _messages(exc), forms=forms)
    flash(f"Imported {name}. {report.summary()}.", "success")
    return redirect(url_for(".index"))


@bp.route("/bank/<any(gift, csv, moodlexml):file_format>", methods=["POST"])
@role_required("trainer", "admin")
def upload_bank(file_format: str):
    forms = _forms()
    form = forms[file_format]
    if not form.validate_on_submit():
        return _page(400, forms=forms)
    upload = form.bank.data
    name = _upload_name(upload.filename, f"bank.{file_format}")
    limit = MAX_BANK_UPLOAD_BYTES[file_format]
    data = upload.stream.read(limit + 1)
    try:
        if len(data) > limit:
            raise BankFormatError([BankProblem(name, 1, f"file is larger than {limit // 1024} KiB")])
        module = find_module(*form.module.data.split("/", 1))
        text, notes = decode_bank_bytes(data, name)
        read = read_bank_file(text, name, file_format)
        read.warnings[:0] = notes
        report = import_bank_file(current_user, module, read)
    except (BankFormatError, ServiceError) as exc:
        return _page(400, file_format, _messages(exc), forms=forms)
    # The report can be long (a line per draft and refusal): shown here rather than squeezed into a cookie.
    return _page(200, forms=_forms(), report={"title": f"Imported {name} into {module.course.title} › {module.title}.",
                                              "summary": report.summary(), "lines": report.lines(),
                                              "module_id": module.id, "drafts": len(report.drafts)})


@bp.route("/courses/<int:course_id>.<any(yaml, gift, csv, moodlexml):file_format>.zip")
@role_required("trainer", "admin")
def download_course(course_id: int, file_format: str):
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404)
    with tempfile.TemporaryDirectory(prefix="trainer-export-") as tmp:
        out = Path(tmp) / course.slug
        result = export_course(course.slug, file_format, out)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            # One top folder named after the course: unpacked, it is a course folder; uploaded, it imports.
            for path in sorted(result.files):
                archive.write(path, PurePosixPath(course.slug, path.relative_to(out).as_posix()).as_posix())
            if result.left_out:
                archive.writestr(f"{course.slug}/LEFT-OUT.txt", _left_out_note(file_format, result.left_out))
    suffix = "" if file_format == "yaml" else f"-{file_format}"
    return file_download(buffer.getvalue(), f"{file_name_part(course.slug)}{suffix}-{_today()}.zip", "application/zip")


@bp.route("/modules/<int:module_id>.<any(yaml, gift, csv, moodlexml):file_format>")
@role_required("trainer", "admin")
def download_module(module_id: int, file_format: str):
    """One module's bank; when the format cannot hold some questions, say which before downloading the rest."""
    module = db.session.get(Module, module_id)
    if module is None or module.retired:
        abort(404)
    questions = [version.content for _, version in current_versions(module)]
    text, left_out = bank_file_text(questions, file_format, module.course)
    if left_out and request.args.get("without") != "listed":
        return _page(200, left_out={"module": module, "format": file_format, "label": FORMAT_LABELS[file_format],
                                    "reasons": left_out, "kept": len(questions) - len(left_out)})
    # Flask adds the charset to text/* types itself.
    mimetypes = {"yaml": "application/yaml; charset=utf-8", "gift": "text/plain", "csv": "text/csv",
                 "moodlexml": "application/xml"}
    extension = EXTENSIONS[file_format]
    name = f"{file_name_part(module.course.slug)}-{file_name_part(module.slug)}-{_today()}.{extension}"
    return file_download(text.encode("utf-8"), name, mimetypes[file_format])


def _left_out_note(file_format: str, left_out: list[str]) -> str:
    return (f"These questions are not in the {FORMAT_LABELS[file_format]} files: the format cannot express them.\n"
            "Download the course folder (YAML) to keep every question.\n\n" + "\n".join(left_out) + "\n")


# --- uploads -----------------------------------------------------------------------------


def _upload_name(filename: str | None, default: str) -> str:
    """The uploaded file's own name, without any folder a browser sent, for messages."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:100] or default


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, BankFormatError):
        return [str(problem) for problem in exc.problems]
    return [str(exc)]


def _relative(problem: BankProblem, root: Path) -> str:
    """The problem as `path:line: message`, with paths relative to the upload, never the server's temp folder."""
    text = str(problem)
    for prefix in {str(root.resolve()), str(root)}:
        text = text.replace(prefix + "/", "").replace(prefix, ".")
    return text


# --- downloads ---------------------------------------------------------------------------


def _today() -> str:
    return clock.now().date().isoformat()


