"""The result review (trainer/quiz/review.py): before keys are revealed it holds none of them."""
from trainer.quiz.review import keys_revealed, missed_topics, question_review

SOURCES = {"S1": {"citation": "Fernandes 2008"}}


def _review(content, response, fraction, reveal):
    return question_review(content, content["stem"], _order(content), response, fraction,
                           reveal_keys=reveal, render=lambda md: f"<p>{md}</p>", sources=SOURCES)


def _order(content):
    if content["type"] == "matching":
        return {"left": list(range(len(content["pairs"]))), "right": list(range(len(content["pairs"])))}
    if content["type"] in ("single", "multiple"):
        return list(range(len(content["choices"])))
    if content["type"] == "ordering":
        return [1, 0]
    return None


SINGLE = {"type": "single", "stem": "Which?", "explanation": "Because A.", "source": "S1", "critical": True,
          "tags": ["glide-media"], "feedback": "General feedback.",
          "choices": [{"text": "A", "correct": True, "feedback": "Yes, A."}, {"text": "B", "feedback": "Not B."}]}
SHORT = {"type": "short_answer", "stem": "Protein?", "explanation": "Collagen induction.", "answers": ["collagen"]}
ORDERING = {"type": "ordering", "stem": "Order?", "explanation": "First then second.", "order": ["First", "Second"]}
MATCHING = {"type": "matching", "stem": "Match?", "explanation": "Pen sets depth.",
            "pairs": [{"left": "Pen", "right": "Adjustable depth"}, {"left": "Roller", "right": "Drum"}]}


def test_keys_are_revealed_after_a_pass_or_when_the_module_always_shows_them():
    assert keys_revealed(True, "after_pass") and keys_revealed(False, "always")
    assert not keys_revealed(False, "after_pass")


def test_a_hidden_review_of_a_wrong_choice_holds_no_key_feedback_or_explanation():
    review = _review(SINGLE, 1, 0.0, reveal=False)
    assert [o["correct"] for o in review["review"]["options"]] == [None, None]
    assert [o["feedback"] for o in review["review"]["options"]] == [None, None]
    assert review["explanation"] is None and review["feedback"] is None
    assert [o["picked"] for o in review["review"]["options"]] == [False, True]
    assert review["source"] == "Fernandes 2008" and review["topics"] == "glide media"


def test_a_hidden_review_keeps_the_explanation_of_a_question_answered_right():
    review = _review(SINGLE, 0, 1.0, reveal=False)
    assert review["explanation"] == "<p>Because A.</p>" and review["correct"] is True
    assert review["review"]["options"][0]["correct"] is None


def test_hidden_reviews_of_every_answer_shape_hold_no_key():
    for content, response in ((SHORT, "elastin"), (ORDERING, [1, 0]), (MATCHING, [1, 0])):
        text = repr(_review(content, response, 0.0, reveal=False))
        assert content["explanation"] not in text
        assert "collagen" not in text and "['First', 'Second']" not in text
    matching = _review(MATCHING, None, 0.0, reveal=False)["review"]
    assert all(row["right"] is None for row in matching["rows"])


def test_a_revealed_review_holds_the_keys_feedback_and_explanation():
    review = _review(SINGLE, 1, 0.0, reveal=True)
    assert [o["correct"] for o in review["review"]["options"]] == [True, False]
    assert review["review"]["options"][1]["feedback"] == "Not B."
    assert review["explanation"] == "<p>Because A.</p>" and review["feedback"] == "<p>General feedback.</p>"
    assert _review(SHORT, "elastin", 0.0, reveal=True)["review"]["accepted"] == ["collagen"]


def test_missed_topics_name_the_safety_critical_questions_answered_wrongly():
    reviews = [_review(SINGLE, 1, 0.0, reveal=False), _review(SINGLE, 0, 1.0, reveal=False)]
    assert missed_topics(reviews) == ["glide media"]
