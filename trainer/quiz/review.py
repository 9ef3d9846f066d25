"""The review of a graded quiz, holding only what its reader may see (invariant 5).

Before a pass (unless the module shows answers always) the review carries no key, no per-choice
feedback and no explanation of a question answered wrongly: what is withheld never reaches a
template, so no template can leak it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from trainer.banks.course_folder import cited_source_keys
from trainer.quiz.types import question_type


def keys_revealed(passed: bool, show_answers: str) -> bool:
    """Whether the reader of a result may see correct answers and per-choice feedback."""
    return passed or show_answers == "always"


def topic_words(tag: str) -> str:
    """A tag as words ("glide media"), not as a slug ("glide-media")."""
    return tag.replace("-", " ").replace("_", " ")


def _without_keys(review: dict) -> dict:
    """A question type's review with every key and per-choice feedback set to None."""
    hidden = dict(review)
    if "options" in hidden:
        hidden["options"] = [{**option, "correct": None, "feedback": None} for option in hidden["options"]]
    if "rows" in hidden:
        hidden["rows"] = [{**row, "right": None, "correct": None} for row in hidden["rows"]]
    if "correct_order" in hidden:
        hidden["correct_order"] = None
    if "accepted" in hidden:
        hidden["accepted"] = None
    if "feedback" in hidden:
        hidden["feedback"] = None
    return hidden


def question_review(content: Mapping, stem_md: str, order: Any, response: Any, fraction: float | None, *,
                    reveal_keys: bool, render: Callable[[str], Any], sources: Mapping) -> dict:
    """What the review of one graded question may show.

    `content` is the version graded against (after a regrade, the corrected one); `stem_md` the stem
    that was shown. The explanation is kept where keys are revealed or the answer was right.
    """
    qtype = question_type(content["type"])
    fraction = fraction or 0.0
    correct = fraction >= 1.0
    review = qtype.review(content, order, response)
    explanation = content.get("explanation")
    tags = list(content.get("tags") or [])
    cited = cited_source_keys(content.get("source", ""))
    return {
        "type": qtype.name, "stem": render(stem_md), "fraction": fraction, "correct": correct,
        "review": review if reveal_keys else _without_keys(review),
        "explanation": render(explanation) if explanation and (reveal_keys or correct) else None,
        "feedback": render(content["feedback"]) if reveal_keys and content.get("feedback") else None,
        "source": "; ".join(sources.get(k, {}).get("citation", k) for k in cited),
        "critical": bool(content.get("critical")), "tags": tags,
        "topics": ", ".join(topic_words(t) for t in tags),
    }


def missed_topics(reviews: Iterable[Mapping]) -> list[str]:
    """The topics, in words, of the safety-critical questions answered wrongly."""
    return sorted({topic_words(t) for r in reviews if r["critical"] and not r["correct"] for t in r["tags"]})
