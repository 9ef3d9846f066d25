"""Every e-mail is written from templates/email/*.txt (mail.compose_email): the wording people get."""
from tests.factories import make_clinic, make_user
from trainer.models import Course
from trainer.services.mail import compose_email


def test_the_assignment_email_with_and_without_a_link(app):
    person = make_user(name="Ann O'Neil")
    course = Course(slug="c", title='Microneedling "Core"')
    subject, body = compose_email("assignment", person=person, course=course, assigner="Morgan Manager",
                                  due="3 March 2026", home_url="https://trainer.example.org/learn")
    assert subject == 'Training assigned: Microneedling "Core", due 3 March 2026'
    assert body == ("Hello Ann O'Neil,\n\nMorgan Manager assigned you the course \"Microneedling \"Core\"\", due "
                    "3 March 2026.\n\nOpen your training here:\n\nhttps://trainer.example.org/learn\n")
    _, body = compose_email("assignment", person=person, course=course, assigner="An administrator",
                            due="3 March 2026", home_url=None)
    assert body.endswith("due 3 March 2026.\n\nSign in to Trainer and open \"My training\".\n")


def test_the_account_created_and_password_reset_emails(app):
    user = make_user(name="Ann <Admin> & Co", clinic=make_clinic("North & South"))
    subject, body = compose_email("account_created", user=user, creator="Morgan", link="https://t.example/r/x")
    assert subject == "Your Trainer account is ready"
    assert body == (f"Hello Ann <Admin> & Co,\n\nMorgan created your account at North & South for the microneedling "
                    "training. Choose your password here (the link works once, for 7 days):\n\n"
                    f"https://t.example/r/x\n\nAfterwards, sign in with {user.email}.\n")
    subject, body = compose_email("password_reset", user=user, who="Morgan sent you", minutes=30,
                                  link="https://t.example/r/y")
    assert subject == "Choose a new password for Trainer"
    assert body == (f"Hello Ann <Admin> & Co,\n\nMorgan sent you a link to choose a new password for {user.email}. "
                    "It works once, for 30 minutes:\n\nhttps://t.example/r/y\n\nChoosing a new password signs you "
                    "out everywhere. If you did not ask for this, ignore this e-mail: your password stays as it is.\n")
