"""Delivering messages: recorded once in the outbox, and sent through SMTP when SMTP_URL is set."""
from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trainer import clock
from trainer.extensions import db
from trainer.models import OutboxMessage

SENDER = "Trainer <no-reply@trainer.local>"


def _send_smtp(smtp_url: str, message: OutboxMessage) -> None:
    """smtp://user:password@host:port (plain, STARTTLS when offered) or smtps:// (TLS)."""
    parts = urlsplit(smtp_url)
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = SENDER, message.recipient_email, message.subject
    email.set_content(message.body)
    connection_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with connection_class(parts.hostname or "localhost", parts.port or (465 if parts.scheme == "smtps" else 25),
                          timeout=30) as smtp:
        if parts.scheme == "smtp":
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)


def compose_email(name: str, **context) -> tuple[str, str]:
    """The subject and body of `templates/email/<name>.txt`, whose first line is `Subject: ...`."""
    first_line, _, body = render_template(f"email/{name}.txt", **context).partition("\n")
    if not first_line.startswith("Subject: "):
        raise ValueError(f"email/{name}.txt must start with a 'Subject: ' line")
    return first_line.removeprefix("Subject: ").strip(), body.lstrip("\n").rstrip("\n") + "\n"


def queue_message(*, recipient_email: str, subject: str, body: str, kind: str, dedupe_key: str,
                  recipient_id: int | None = None) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction; once committed, send_queued hands it on."""
    message = OutboxMessage(recipient_id=recipient_id, recipient_email=recipient_email, kind=kind,
                            dedupe_key=dedupe_key, subject=subject, body=body, created_dt=clock.now())
    db.session.add(message)
    db.session.flush()
    return message


def send_queued(message: OutboxMessage, smtp_url: str | None) -> None:
    """Hand a committed outbox message to SMTP and mark it sent (without SMTP_URL it stays in the outbox).

    Raises OSError when the server refuses; the message stays unsent, for send_unsent to retry."""
    if smtp_url:
        _send_smtp(smtp_url, message)
        message.sent_dt = clock.now()
        db.session.commit()


def deliver(*, recipient_email: str, subject: str, body: str, kind: str, dedupe_key: str,
            recipient_id: int | None = None, smtp_url: str | None = None) -> OutboxMessage | None:
    """Record and send a message once per dedupe_key; None if it was already delivered before.

    Commits: the outbox row is the proof that a message went out, so it is stored before
    the SMTP hand-off and marked sent after it.
    """
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    try:
        message = queue_message(recipient_email=recipient_email, subject=subject, body=body, kind=kind,
                                dedupe_key=dedupe_key, recipient_id=recipient_id)
        db.session.commit()
    except IntegrityError:  # another process delivered the same message just now
        db.session.rollback()
        return None
    send_queued(message, smtp_url)
    return message


#: Unsent outbox messages younger than this are handed to SMTP on the next run.
RETRY_WITHIN = timedelta(days=7)


def send_unsent(smtp_url: str, now: datetime) -> int:
    """Send the last week's outbox messages that never went out (the mail server was down, or
    SMTP_URL was set only later); return how many. Stops at the first refusal (OSError)."""
    pending = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_dt.is_(None), OutboxMessage.created_dt >= now - RETRY_WITHIN)
        .order_by(OutboxMessage.id)
    ).all()
    for message in pending:
        _send_smtp(smtp_url, message)
        message.sent_dt = clock.now()
        db.session.commit()
    return len(pending)
