"""Authoring in the browser: module content, quiz settings, questions saved as draft versions, and a quiz preview.

checks.py says what keeps an input from being saved (keyed by field), writes.py saves (each write checked,
audited, one transaction), reads.py lists questions, drafts and history, preview.py draws and grades in memory.
Callers use this package's names: `authoring.save_question(...)`.
"""
from trainer.services.authoring.checks import (
    COMMON_FIELDS,
    GENERAL,
    EditConflict,
    InvalidInput,
    module_content_problems,
    question_problems,
    quiz_settings_problems,
)
from trainer.services.authoring.preview import (
    PreviewItem,
    PreviewResult,
    draw_preview,
    grade_preview,
    load_preview,
)
from trainer.services.authoring.reads import (
    BankCounts,
    HistoryEntry,
    QuestionRow,
    ReviewItem,
    bank_counts,
    content_diff,
    content_yaml,
    draft_needs,
    module_questions,
    newest_version,
    newest_versions,
    question_version,
    review_queue,
    version_history,
)
from trainer.services.authoring.writes import (
    add_question,
    move_question,
    publish_question,
    save_question,
    set_retired,
    update_module_content,
    update_quiz_settings,
)
from trainer.services.catalog import QUIZ_FIELDS

__all__ = [
    "GENERAL", "COMMON_FIELDS", "QUIZ_FIELDS", "EditConflict", "InvalidInput", "module_content_problems",
    "question_problems", "quiz_settings_problems", "PreviewItem", "PreviewResult", "draw_preview", "grade_preview",
    "load_preview", "HistoryEntry", "QuestionRow", "ReviewItem", "content_diff", "content_yaml", "module_questions",
    "newest_version", "newest_versions", "review_queue", "version_history", "BankCounts", "bank_counts", "draft_needs",
    "question_version", "add_question", "move_question",
    "publish_question", "save_question", "set_retired", "update_module_content", "update_quiz_settings",
]
