"""Each question type: bank validation, reading forms, scoring."""
import random

import pytest

from tests.factories import FormData
from trainer.quiz.types import InvalidResponse, question_type, validate_question

SINGLE = {"id": "q-single", "type": "single", "stem": "S?", "explanation": "E.",
          "choices": [{"text": "Right", "correct": True}, {"text": "Wrong"}, {"text": "Also wrong"}]}
MULTI = {"id": "q-multi", "type": "multiple", "stem": "M?", "explanation": "E.", "scoring": "partial",
         "choices": [{"text": "A", "correct": True}, {"text": "B", "correct": True}, {"text": "C"}, {"text": "D"}]}
MATCH = {"id": "q-match", "type": "matching", "stem": "Match", "explanation": "E.",
         "pairs": [{"left": "a", "right": "1"}, {"left": "b", "right": "2"}, {"left": "c", "right": "3"},
                   {"left": "d", "right": "4"}]}
ORDER = {"id": "q-order", "type": "ordering", "stem": "Order", "explanation": "E.",
         "order": ["first", "second", "third"]}


def messages(q):
    return [p.message for p in validate_question(q)]


def test_valid_examples_have_no_problems():
    for q in (SINGLE, MULTI, MATCH, ORDER,
              {"id": "t", "type": "true_false", "stem": "T", "explanation": "E", "answer": False},
              {"id": "s", "type": "short_answer", "stem": "S", "explanation": "E", "answers": ["collagen"]}):
        assert validate_question(q) == []


@pytest.mark.parametrize("change, expected", [
    ({"choices": [{"text": "A", "correct": True}, {"text": "B", "correct": True}]}, "exactly one correct choice"),
    ({"choices": [{"text": "A", "correct": True}]}, "at least two choices"),
    ({"choices": [{"text": "A", "correct": True}, {"text": " a "}]}, "repeats the text"),
    ({"choices": [{"text": "A", "correct": "yes"}, {"text": "B"}]}, "'correct' must be true or false"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"stem": ""}, "missing stem"),
    ({"explanation": 3}, "explanation must be text"),
    ({"type": "essay"}, "unknown type 'essay'"),
    ({"id": "Bad Id"}, "id must be"),
    ({"difficulty": 5}, "difficulty must be 1, 2 or 3"),
    ({"answer": True}, "unknown key 'answer' for a single question"),
])
def test_single_validation_problems(change, expected):
    assert any(expected in m for m in messages({**SINGLE, **change}))


def test_multiple_needs_scoring_and_a_correct_choice():
    assert any("scoring must be" in m for m in messages({**MULTI, "scoring": None}))
    assert any("at least one correct" in m for m in messages({**MULTI, "choices": [{"text": "A"}, {"text": "B"}]}))


def test_matching_and_ordering_validation():
    assert any("same right side" in m for m in messages({**MATCH,
                                                         "pairs": [{"left": "a", "right": "1"},
                                                                   {"left": "b", "right": "1"}]}))
    assert any("exactly 'left' and 'right'" in m for m in messages({**MATCH,
                                                                    "pairs": [{"left": "a"},
                                                                              {"left": "b", "right": "1"}]}))
    assert any("are the same" in m for m in messages({**ORDER, "order": ["x", "X"]}))
    assert any("answer: true" in m for m in messages({"id": "t", "type": "true_false", "stem": "T",
                                                      "explanation": "E", "answer": "no"}))


def test_single_reads_display_positions_not_bank_indices():
    qt = question_type("single")
    order = [2, 0, 1]  # shown: "Also wrong", "Right", "Wrong"
    assert qt.read_form(SINGLE, order, FormData({"q1": "1"}), "q1") == 0
    assert qt.score(SINGLE, 0) == 1.0 and qt.score(SINGLE, 2) == 0.0 and qt.score(SINGLE, None) == 0.0
    assert qt.read_form(SINGLE, order, FormData({}), "q1") is None
    with pytest.raises(InvalidResponse):
        qt.read_form(SINGLE, order, FormData({"q1": "7"}), "q1")
    with pytest.raises(InvalidResponse):
        qt.read_form(SINGLE, order, FormData({"q1": "-1"}), "q1")


def test_view_never_contains_keys_or_feedback():
    q = {**SINGLE, "choices": [{"text": "Right", "correct": True, "feedback": "SECRET"}, {"text": "Wrong"}]}
    view = question_type("single").view(q, [1, 0])
    assert "SECRET" not in repr(view) and "correct" not in repr(view)
    assert view == {"options": [(0, "Wrong"), (1, "Right")]}


@pytest.mark.parametrize("picked, partial, all_or_nothing", [
    ([0, 1], 1.0, 1.0), ([0], 0.5, 0.0), ([0, 2], 0.0, 0.0), ([0, 1, 2], 0.5, 0.0), ([2, 3], 0.0, 0.0), ([], 0.0, 0.0),
])
def test_multiple_scoring(picked, partial, all_or_nothing):
    qt = question_type("multiple")
    assert qt.score(MULTI, picked) == partial
    assert qt.score({**MULTI, "scoring": "all_or_nothing"}, picked) == all_or_nothing


def test_multiple_reads_several_values():
    qt = question_type("multiple")
    assert qt.read_form(MULTI, [3, 2, 1, 0], FormData({"q2": ["3", "2"]}), "q2") == [0, 1]


def test_true_false():
    qt = question_type("true_false")
    q = {"id": "t", "type": "true_false", "stem": "T", "explanation": "E", "answer": False}
    assert qt.read_form(q, [], FormData({"q1": "false"}), "q1") is False
    assert qt.score(q, False) == 1.0 and qt.score(q, True) == 0.0 and qt.score(q, None) == 0.0
    with pytest.raises(InvalidResponse):
        qt.read_form(q, [], FormData({"q1": "maybe"}), "q1")


def test_matching_partial_credit_and_form_round_trip():
    qt = question_type("matching")
    order = qt.display_order(MATCH, random.Random(3))
    form = FormData({f"q1-{pos}": str(order["right"].index(left)) for pos, left in enumerate(order["left"])})
    response = qt.read_form(MATCH, order, form, "q1")
    assert response == [0, 1, 2, 3] and qt.score(MATCH, response) == 1.0
    assert qt.score(MATCH, [0, 1, 3, 2]) == 0.5
    assert qt.score(MATCH, [None, None, None, None]) == 0.0
    assert qt.form_values(MATCH, order, response)["selected"] == {int(k[3:]): int(v) for k, v in form.items()}


def test_ordering_never_starts_in_the_right_order_and_scores_whole_sequence():
    qt = question_type("ordering")
    for seed in range(50):
        assert qt.display_order(ORDER, random.Random(seed)) != [0, 1, 2]
    order = [2, 0, 1]
    right = FormData({"q1-0": "3", "q1-1": "1", "q1-2": "2"})
    assert qt.read_form(ORDER, order, right, "q1") == [0, 1, 2]
    assert qt.score(ORDER, [0, 1, 2]) == 1.0 and qt.score(ORDER, [1, 0, 2]) == 0.0
    with pytest.raises(InvalidResponse):
        qt.read_form(ORDER, order, FormData({"q1-0": "1", "q1-1": "1", "q1-2": "2"}), "q1")


def test_short_answer_is_case_and_space_insensitive():
    qt = question_type("short_answer")
    q = {"id": "s", "type": "short_answer", "stem": "S", "explanation": "E", "answers": ["Type I collagen"]}
    assert qt.score(q, "  type   i COLLAGEN ") == 1.0
    assert qt.score(q, "elastin") == 0.0 and qt.score(q, None) == 0.0
    with pytest.raises(InvalidResponse):
        qt.read_form(q, [], FormData({"q1": "x" * 501}), "q1")


def test_normalised_questions_compare_equal_whatever_wrote_them():
    from trainer.quiz.types import normalise_question
    explicit = {**SINGLE, "critical": False, "tags": [], "choices": [{"text": "Right", "correct": True},
                                                                     {"text": "Wrong",
                                                                      "correct": False, "feedback": ""}]}
    implicit = {**SINGLE, "choices": [{"text": "Right", "correct": True}, {"text": "Wrong"}]}
    assert normalise_question(explicit) == normalise_question(implicit) == implicit
