"""`flask banks|clinics|users|demo|attempts|audit|notify ...`: the same services the web uses.

Errors are one sentence on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from trainer.banks.course_folder import load_course
from trainer.banks.records import BankFormatError, BankProblem
from trainer.models import ROLES
from trainer.services import ServiceError

banks = AppGroup("banks", help="Validate and import course folders.")
clinics = AppGroup("clinics", help="Manage clinics.")
users = AppGroup("users", help="Manage accounts.")
demo = AppGroup("demo", help="Demo data for trying the app.")
attempts = AppGroup("attempts", help="Quiz attempts.")
audit = AppGroup("audit", help="The audit trail.")
records = AppGroup("records", help="Training records for inspectors and insurers.")
jobs = AppGroup("jobs", help="Background jobs: the worker and clean-up.")


#: Formats of single bank files (import) and of course exports.
BANK_FILE_FORMATS = ("yaml", "gift", "csv", "moodlexml")
BANK_EXPORT_FORMATS = ("yaml", "gift", "csv", "moodlexml")


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _course_folders(paths: tuple[str, ...]) -> list[Path]:
    """Each PATH is a course folder, or a folder of course folders (like question_banks/)."""
    folders = []
    for raw in paths or ("question_banks",):
        path = Path(raw)
        if (path / "course.yaml").is_file():
            folders.append(path)
        elif path.is_dir():
            found = sorted(p.parent for p in path.glob("*/course.yaml"))
            if not found:
                fail(f"{raw} holds no course folder (a folder with a course.yaml).")
            folders.extend(found)
        elif path.is_file() and path.name == "course.yaml":
            folders.append(path.parent)
        else:
            fail(f"{raw} is not a course folder.")
    return folders


def _load_all(paths: tuple[str, ...]):
    specs, problems = [], []
    for folder in _course_folders(paths):
        try:
            specs.append(load_course(folder))
        except BankFormatError as exc:
            problems.extend(exc.problems)
    slugs = [s.slug for s in specs]
    for slug in {s for s in slugs if slugs.count(s) > 1}:
        problems.append(BankProblem(str(paths[0] if paths else "question_banks"), 1,
                                    f"two course folders use the slug '{slug}'"))
    return specs, problems


def _print_problems(problems: list[BankProblem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


@banks.command("validate")
@click.argument("paths", nargs=-1)
@click.option("--format", "file_format", type=click.Choice(["folder", *BANK_FILE_FORMATS]), default="folder",
              show_default=True, help="folder: course folders; yaml, gift, csv, moodlexml: single bank files.")
@click.option("--into", "into", metavar="COURSE/MODULE",
              help="Bank files: check against this module's course (its sources) as an import would.")
def banks_validate(paths, file_format, into):
    """Check course folders, or what importing bank files would do; print path:line: message per problem."""
    if file_format != "folder":
        _validate_bank_files(paths, file_format, into)
        return
    specs, problems = _load_all(paths)
    if problems:
        _print_problems(problems)
        raise SystemExit(1)
    for spec in specs:
        count = sum(len(m.questions) for m in spec.modules)
        click.echo(f"{spec.slug}: OK ({len(spec.modules)} modules, {count} questions)")


def _read_bank_files(paths, file_format: str):
    """Each bank file read: (path, notes on its encoding, what it holds, []) or (path, [], None, its
    problems) when it cannot be read; a path that is not a file ends the command."""
    from trainer.services.interchange import decode_bank_bytes, read_bank_file

    for raw in paths:
        if not Path(raw).is_file():
            fail(f"{raw} is not a file.")
        try:
            text, notes = decode_bank_bytes(Path(raw).read_bytes(), raw)
            read = read_bank_file(text, raw, file_format)
        except BankFormatError as exc:
            yield raw, [], None, exc.problems
            continue
        yield raw, notes, read, []


def _validate_bank_files(paths, file_format: str, into: str | None) -> None:
    """A dry run of `banks import --format ...`: what would be published, kept as a draft or refused."""
    from trainer.services.interchange import draft_line, find_module

    if not paths:
        fail("Give the bank file to check.")
    sources = None
    if into:
        if into.count("/") != 1:
            fail("Say which module the file would go into: --into COURSE/MODULE.")
        try:
            sources = find_module(*into.split("/")).course.sources or None
        except ServiceError as exc:
            fail(str(exc))
    failed = False
    for raw, notes, read, problems in _read_bank_files(paths, file_format):
        if read is None:
            _print_problems(problems)
            failed = True
            continue
        drafts = [line for pq in read.questions if (line := draft_line(pq, sources))]
        _print_problems(sorted(notes + read.warnings + read.refused + drafts, key=lambda p: p.line))
        click.echo(f"{raw}: {len(read.questions) - len(drafts)} would be published, {len(drafts)} would be drafts "
                   f"that need review, {len(read.refused)} would not be imported")
        failed = failed or bool(drafts or read.refused)
    if failed:
        raise SystemExit(1)


@banks.command("import")
@click.argument("paths", nargs=-1)
@click.option("--format", "file_format", type=click.Choice(["folder", *BANK_FILE_FORMATS]), default="folder",
              show_default=True, help="folder: course folders; yaml, gift, csv, moodlexml: single bank files "
                                      "(need --into).")
@click.option("--into", "into", metavar="COURSE/MODULE", help="The module a single bank file goes into.")
@click.option("--prefer-files", is_flag=True,
              help="Course folders: where a question was edited in the browser or uploaded since, the file "
                   "wins (as a new version; history is kept).")
def banks_import(paths, file_format, into, prefer_files):
    """Import course folders, or bank files into one module; all or nothing.

    A course folder changes only what came from files: a question edited in the browser or
    uploaded since its last import is kept and listed as a conflict (exit 0).
    """
    from trainer.services.catalog import import_courses, totals_line

    if file_format != "folder":
        if prefer_files:
            fail("--prefer-files is for course folders; a bank file given with --format always wins.")
        _import_bank_files(paths, file_format, into)
        return
    if into:
        fail("--into is for single bank files; give --format yaml, gift, csv or moodlexml too.")
    specs, problems = _load_all(paths)
    if problems:
        _print_problems(problems)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    reports = import_courses(None, specs, prefer_files=prefer_files)
    for report in reports:
        for conflict in report.conflicts:
            click.echo(str(conflict))
    for report in reports:
        click.echo(report.summary())
    click.echo(totals_line(reports))


def _import_bank_files(paths, file_format: str, into: str | None) -> None:
    from trainer.services.interchange import BankRead, find_module, import_bank_file

    if not into or into.count("/") != 1:
        fail("Say which module the file goes into: --into COURSE/MODULE.")
    if not paths:
        fail("Give the bank file to import.")
    try:
        module = find_module(*into.split("/"))
    except ServiceError as exc:
        fail(str(exc))
    read, problems = BankRead([]), []
    for _raw, notes, one, file_problems in _read_bank_files(paths, file_format):
        if one is None:
            problems.extend(file_problems)
            continue
        read.questions.extend(one.questions)
        read.refused.extend(one.refused)
        read.warnings.extend(notes + one.warnings)
        read.media.update(one.media)
    if problems:
        _print_problems(problems)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    try:
        report = import_bank_file(None, module, read)
    except BankFormatError as exc:
        _print_problems(exc.problems)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1) from exc
    for line in report.lines():
        click.echo(line, err=True)
    click.echo(report.summary())


@banks.command("export")
@click.argument("course")
@click.option("--format", "file_format", type=click.Choice(BANK_EXPORT_FORMATS), default="yaml", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write into.")
def banks_export(course, file_format, out_dir):
    """Write a course's current questions out: a course folder (yaml) or one file per module."""
    from trainer.services.interchange import export_course

    try:
        result = export_course(course, file_format, Path(out_dir))
    except ServiceError as exc:
        fail(str(exc))
    for why in result.left_out:
        click.echo(f"left out {why}", err=True)
    click.echo(f"Wrote {len(result.files)} file(s) to {out_dir}."
               + (f" {len(result.left_out)} question(s) left out: {file_format} cannot express them."
                  if result.left_out else ""))


@clinics.command("create")
@click.argument("name")
def clinics_create(name):
    """Add a clinic."""
    from trainer.services.accounts import create_clinic

    try:
        clinic = create_clinic(None, name)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"Created clinic {clinic.name!r}.")


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="Repeat for several roles.")
@click.option("--clinic", "clinic_name", help="The clinic's name (learners and managers).")
def users_create(email, name, roles, clinic_name):
    """Add an account; the password comes from TRAINER_PASSWORD or a prompt."""
    from trainer.services.accounts import create_user, find_clinic

    clinic = None
    if clinic_name:
        clinic = find_clinic(clinic_name)
        if clinic is None:
            fail(f"There is no clinic named {clinic_name!r}; create it with 'flask clinics create'.")
    password = os.environ.get("TRAINER_PASSWORD")
    if not password:
        if not os.isatty(0):
            fail("Set TRAINER_PASSWORD or run in a terminal to type the password.")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(None, email, name, password, list(roles) or ["learner"], clinic)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")


@users.command("reset-password")
@click.argument("email")
def users_reset_password(email):
    """Print a single-use link (30 minutes) with which the person chooses a new password."""
    from trainer.services.password_reset import RESET_MINUTES, operator_reset_link

    try:
        link = operator_reset_link(email)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"Give this link to the person; it works once, for {RESET_MINUTES} minutes:\n{link}")


@users.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--clinic", "clinic_name", help="The clinic of rows without one.")
@click.option("--dry-run", is_flag=True, help="Only show what the file would do.")
def users_import(path, clinic_name, dry_run):
    """Add and update staff from a CSV or XLSX file (email, name, roles, clinic), all or nothing."""
    from trainer.services.accounts import find_clinic
    from trainer.services.staff_import import apply_staff_import, plan_staff_import, read_staff_file

    clinic = None
    if clinic_name:
        clinic = find_clinic(clinic_name)
        if clinic is None:
            fail(f"There is no clinic named {clinic_name!r}; create it with 'flask clinics create'.")
    try:
        plan = plan_staff_import(None, read_staff_file(path, Path(path).read_bytes()), clinic)
    except ServiceError as exc:
        fail(f"{path}: {exc}")
    for row in plan.rows:
        click.echo(f"line {row.line}: {'update' if row.person else 'create'} {row.email} "
                   f"({', '.join(row.roles)}{', ' + row.clinic.name if row.clinic else ''})")
    for problem in plan.problems:
        click.echo(f"{path}: {problem}", err=True)
    if plan.problems:
        fail(f"Nothing was imported: {len(plan.problems)} line(s) need fixing first.")
    if dry_run:
        click.echo(f"Dry run: {len(plan.created)} to create, {len(plan.updated)} to update; nothing changed.")
        return
    try:
        from trainer.links import external_url
        created, updated = apply_staff_import(None, plan, home_url=external_url("learn.home"))
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"Imported: {created} created (each e-mailed a link to choose a password), {updated} updated.")


@demo.command("setup")
@click.option("--show-password", is_flag=True,
              help="When the demo accounts exist already: print a link per account to choose a new password "
                   "(the old one is stored only as a hash).")
def demo_setup(show_password):
    """On an empty database, create a demo clinic and one account per role; print how to sign in."""
    from trainer.services.demo import create_demo_accounts, demo_reset_links

    password = os.environ.get("TRAINER_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    created = create_demo_accounts(password)
    if not created:
        if not show_password:
            click.echo("Accounts already exist; the demo accounts were not created again. Lost the password? "
                       "Run 'flask demo setup --show-password'.")
            return
        links = demo_reset_links()
        if not links:
            fail("None of the demo accounts exists (or all are deactivated); use 'flask users reset-password EMAIL'.")
        click.echo("Passwords are stored only as hashes, so the old one cannot be shown. Open a link to choose a "
                   "new password (each works once, for 30 minutes):")
        for email, link in links:
            click.echo(f"  {email:32} {link}")
        return
    click.echo(f"Demo accounts (password for all: {password}):")
    for user in created:
        click.echo(f"  {user.email:32} {', '.join(sorted(user.roles))}")


@demo.command("seed")
@click.option("--clinics", default=3, show_default=True, type=click.IntRange(1, 200))
@click.option("--staff", default=20, show_default=True, type=click.IntRange(1, 2000), help="People per clinic.")
@click.option("--attempts", default=3, show_default=True, type=click.IntRange(0, 50), help="At most, per person.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
def demo_seed(clinics, staff, attempts, seed):
    """Add a realistic synthetic dataset (for trying the app and for benchmarks)."""
    from trainer.services.demo import seed_demo_data

    password = os.environ.get("TRAINER_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    try:
        counts = seed_demo_data(clinics=clinics, staff=staff, attempts=attempts, seed=seed, password=password)
    except (ValueError, ServiceError) as exc:
        fail(str(exc))
    click.echo(f"Added {counts['clinics']} clinics, {counts['people']} people and {counts['attempts']} attempts; "
               f"password for all: {password}")


@attempts.command("regrade")
@click.option("--module", "module_path", required=True, metavar="COURSE/MODULE")
@click.option("--dry-run", is_flag=True, help="Only list whose result would change.")
@click.option("--by", "actor_email", help="Email of the person responsible, for the audit trail.")
@click.option("--background", is_flag=True, help="Queue it as a job for `flask jobs worker` (needs --by).")
def attempts_regrade(module_path, dry_run, actor_email, background):
    """Grade a module's past attempts against the current versions of their questions."""
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import User
    from trainer.services.interchange import find_module
    from trainer.services.regrade import regrade_module

    if module_path.count("/") != 1:
        fail("Give the module as COURSE/MODULE, for example microneedling-practitioner/safety.")
    try:
        module = find_module(*module_path.split("/"))
    except ServiceError as exc:
        fail(str(exc))
    actor = None
    if actor_email:
        actor = db.session.scalar(select(User).where(User.email == actor_email.strip().lower()))
        if actor is None:
            fail(f"There is no account {actor_email}.")
    if background:
        if dry_run or actor is None:
            fail("A background regrade is a real one by a named trainer: drop --dry-run and give --by EMAIL.")
        _queue_job(actor, "regrade", {"module_id": module.id})
        return
    try:
        report = regrade_module(actor, module, dry_run=dry_run)
    except ServiceError as exc:
        fail(str(exc))
    for change in report.changes:
        verdict = "" if change.old_passed == change.new_passed else \
            (" (now passes)" if change.new_passed else " (NO LONGER PASSES: review their certificate)")
        click.echo(f"attempt {change.attempt_id} of {change.person} (#{change.attempt_number}): "
                   f"{change.old_score:g}% -> {change.new_score:g}%{verdict}")
    for attempt_id, key, why in report.kept:
        click.echo(f"attempt {attempt_id}: {key} kept its old grading because {why}")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(report.changes)} result(s) {verb}, {report.unchanged} unchanged.")


@attempts.command("close-expired")
def attempts_close_expired():
    """Submit every open attempt whose deadline has passed (for a scheduler)."""
    from flask import current_app

    from trainer.services.attempts import close_expired_attempts

    closed = close_expired_attempts(current_app.config["ANSWER_GRACE_SECONDS"])
    click.echo(f"Closed {closed} expired attempt(s).")


@click.command("notify")
@click.option("--base-url", default=None,
              help="Where people reach the app; links in the messages start with it (default: TRAINER_BASE_URL).")
@click.option("--background", is_flag=True, help="Queue the run as a job for `flask jobs worker` and return.")
@with_appcontext
def notify(base_url, background):
    """Send expiry reminders, overdue notices and managers' weekly digests not sent before (for cron)."""
    from flask import current_app

    from trainer import clock
    from trainer.links import url_builder
    from trainer.services.notifications import send_notifications

    try:
        urls = url_builder(base_url)
    except ValueError as exc:
        fail(str(exc))
    if background:
        _queue_job(None, "notify", {"base_url": base_url})
        return
    report = send_notifications(clock.now(), current_app.config.get("SMTP_URL"), urls)
    click.echo(report.summary())
    if report.smtp_error:
        fail(f"The mail server refused a message ({report.smtp_error}); unsent messages stay in the outbox and "
             f"go out on the next run.")


@audit.command("verify")
@click.option("--expect-head", metavar="HASH", help="The head hash an earlier run printed: proves no entry was "
                                                    "removed from the end since then.")
def audit_verify(expect_head):
    """Check the audit trail's hash chain; exit 1 at the first altered or missing entry."""
    from flask import current_app
    from sqlalchemy import func, select

    from trainer.extensions import db
    from trainer.models import AuditEvent
    from trainer.services.audit import first_broken_event, missing_head

    broken = first_broken_event()
    if broken is not None:
        event_id, problem = broken
        click.echo(f"Audit entry {event_id}: {problem}.", err=True)
        raise SystemExit(1)
    head_file = current_app.config.get("AUDIT_HEAD_FILE")
    missing = missing_head(head_file)
    if missing is not None:
        click.echo(f"Audit entry {missing[0]} (hash {missing[1]}), recorded in {head_file}, is no longer in the "
                   f"audit trail: entries were cut off or removed.", err=True)
        raise SystemExit(1)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    hashes = set(db.session.scalars(select(AuditEvent.entry_hash)))
    head = db.session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    # The chain cannot show that its newest entries were cut off; a head kept elsewhere can.
    if expect_head and expect_head not in hashes:
        click.echo(f"The entry with head hash {expect_head} is no longer in the audit trail.", err=True)
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {count} entries; head {head or 'none'} (keep it to check later runs).")


@records.command("export")
@click.argument("email")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF (default: training-record-NAME-ID.pdf in the current folder).")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where people reach the app; certificate verification links start with it.")
def records_export(email, out_path, base_url):
    """Write a person's training record (PDF): quizzes, logbook, DOPS sign-offs, certificates."""
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import User
    from trainer.services.training_records import record_file_name, training_record

    person = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if person is None:
        fail(f"No account has the email {email}.")
    document = training_record(None, person, lambda cert: f"{base_url.rstrip('/')}/verify/{cert.code}")
    target = Path(out_path or record_file_name(person))
    try:
        target.write_bytes(document)
    except OSError as exc:
        fail(f"Cannot write {target}: {exc.strerror}.")
    click.echo(f"Wrote {target} ({len(document)} bytes).")


def _queue_job(actor, kind: str, params: dict) -> None:
    """Record a job and hand it to the queue; say where to follow it."""
    from trainer.services.jobs import request_job
    from trainer.task_queue import enqueue_job

    try:
        job_id = request_job(actor, kind, None, params)
    except ServiceError as exc:
        fail(str(exc))
    enqueue_job(job_id)
    click.echo(f"Queued job {job_id} ({kind}); a worker (flask jobs worker) runs it; "
               f"admins follow it at /jobs/{job_id}.")


@jobs.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at the same time by this worker.")
def jobs_worker(threads):
    """Run background jobs until stopped (SIGINT/SIGTERM); start as many workers as you like."""
    from flask import current_app

    from trainer.task_queue import run_worker

    run_worker(current_app._get_current_object(), threads)


@jobs.command("clean")
@click.option("--days", type=click.IntRange(0), default=None,
              help="Delete finished jobs' files older than this many days (default: JOBS_KEEP_DAYS).")
def jobs_clean(days):
    """Delete old job files (the worker also does it every night); the job rows stay."""
    from flask import current_app

    from trainer.services.jobs import clean_job_files

    removed = clean_job_files(current_app.config["JOBS_KEEP_DAYS"] if days is None else days)
    click.echo(f"Removed {removed} job file{'s' if removed != 1 else ''}.")


def register_cli(app: Flask) -> None:
    for group in (banks, clinics, users, demo, attempts, audit, records, jobs):
        app.cli.add_command(group)
    app.cli.add_command(notify)
