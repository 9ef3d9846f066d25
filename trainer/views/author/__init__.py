"""The trainer's pages, one blueprint ("author") in modules by concern: pages.py (banks, module, review queue,
history), content.py (module Markdown), quiz_settings.py, editor.py (the question editor, with its WTForms
form in question_form.py), lifecycle.py (publish, retire, move) and preview.py (a quiz preview that grades
without recording anything).

Views parse the form, call trainer.services.authoring and render; the rules live in the service.
"""
from trainer.views.author import content, editor, lifecycle, pages, preview, quiz_settings
from trainer.views.author.common import bp

__all__ = ["bp", "content", "editor", "lifecycle", "pages", "preview", "quiz_settings"]
