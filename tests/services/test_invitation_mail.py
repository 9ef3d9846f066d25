"""Inviting someone is one service call: the invitation and its e-mail (templates/email/invitation.txt)
are committed together, so there is never an invitation whose e-mail was not recorded."""
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.factories import make_clinic, make_user
from trainer.extensions import db
from trainer.links import url_builder
from trainer.models import Invitation, OutboxMessage
from trainer.services.staff import invite_staff, resend_invitation


@contextmanager
def counted_commits():
    commits: list[int] = []

    def count(session):
        commits.append(1)

    event.listen(Session, "after_commit", count)
    try:
        yield commits
    finally:
        event.remove(Session, "after_commit", count)


def test_an_invitation_and_its_email_are_one_transaction(app):
    clinic = make_clinic("Harbour & Sons")
    manager = make_user("manager", clinic=clinic, name="Morgan Manager")
    with counted_commits() as commits:
        invitation, token = invite_staff(manager, clinic.id, "nina@example.org", "Nina New", ["learner"],
                                         urls=url_builder("https://trainer.example.org"))
    assert len(commits) == 1
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"invitation:{invitation.id}"))
    assert mail.recipient_email == "nina@example.org" and mail.kind == "invitation"
    assert mail.subject == "You are invited to Harbour & Sons's microneedling training"
    assert mail.body == (
        "Hello Nina New,\n\nMorgan Manager invited you to the microneedling training of Harbour & Sons. Set your "
        "password here (the link works once and expires in 7 days):\n\n"
        f"https://trainer.example.org/invitations/{token}\n")


def test_a_resent_invitation_mails_the_new_link(app):
    clinic = make_clinic()
    manager = make_user("manager", clinic=clinic)
    first, _ = invite_staff(manager, clinic.id, "nina@example.org", "Nina New", ["learner"])
    second, token = resend_invitation(manager, first.id, urls=url_builder("https://trainer.example.org"))
    assert db.session.get(Invitation, first.id).revoked_dt is not None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"invitation:{second.id}"))
    assert f"https://trainer.example.org/invitations/{token}" in mail.body
