"""The author blueprint and what its pages share: looking up a module or question, reading form text."""
from __future__ import annotations

import re

from flask import Blueprint, abort

from trainer.extensions import db
from trainer.models import Module, Question

bp = Blueprint("author", __name__, url_prefix="/author")


def module_or_404(module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    return module


def question_or_404(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


def one_line(value) -> str:
    return (value or "").strip()


def multi_line(value) -> str:
    # Browsers send textareas with CRLF; versions store LF so an unchanged save adds no version.
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def whole_number(text: str):
    """A whole number, None when blank, or the text itself so the rules can say what is wrong."""
    text = text.strip()
    if text == "":
        return None
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else text
