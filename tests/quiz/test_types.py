"""Each question type: bank validation, reading forms, scoring."""
import random

import pytest

from tests.factories import FormData
from trainer.quiz.types import InvalidResponse, normalise_question, question_type, validate_question

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


@pytest.mark.parametrize("kind, q, order, form", [
    ("single", SINGLE, [2, 0, 1], FormData({"q1": "3"})),
    ("multiple", MULTI, [3, 2, 1, 0], FormData({"q1": ["0", "4"]})),
    ("matching", MATCH, {"left": [0, 1, 2, 3], "right": [3, 2, 1, 0]}, FormData({"q1-0": "4"})),
])
def test_a_position_equal_to_the_option_count_is_an_invalid_answer_not_a_crash(kind, q, order, form):
    # Positions run 0..count-1: the first one past the end must be refused like any other stranger.
    with pytest.raises(InvalidResponse, match="not part of this question"):
        question_type(kind).read_form(q, order, form, "q1")


def test_ordering_refuses_a_rank_past_the_item_count_and_rank_zero():
    qt = question_type("ordering")
    for bad in ("4", "0"):
        with pytest.raises(InvalidResponse, match="number from the list"):
            qt.read_form(ORDER, [2, 0, 1], FormData({"q1-0": bad, "q1-1": "1", "q1-2": "2"}), "q1")
    # The last rank itself is fine.
    assert qt.read_form(ORDER, [2, 0, 1], FormData({"q1-0": "3", "q1-1": "1", "q1-2": "2"}), "q1") == [0, 1, 2]


def test_a_partly_answered_matching_question_keeps_the_answers_given():
    qt = question_type("matching")
    order = {"left": [2, 0, 1, 3], "right": [3, 2, 1, 0]}
    # Only the first shown item (bank pair 2) is matched, to the right side shown at position 1 (bank 2).
    response = qt.read_form(MATCH, order, FormData({"q1-0": "1"}), "q1")
    assert response == [None, None, 2, None]
    assert qt.score(MATCH, response) == 0.25
    assert qt.read_form(MATCH, order, FormData({}), "q1") is None


# --- what each type tells the browser editor ----------------------------------------------------------

def test_editor_values_and_from_editor_round_trip_each_editable_type():
    questions = [
        {"type": "single", "choices": [{"text": "A", "correct": True, "feedback": "Yes"}, {"text": "B"}]},
        {"type": "multiple", "choices": [{"text": "A", "correct": True}, {"text": "B"}], "scoring": "partial"},
        {"type": "true_false", "answer": False},
        {"type": "matching", "pairs": [{"left": "Pen", "right": "Depth"}, {"left": "Roller", "right": "Drum"}]},
        {"type": "ordering", "order": ["Cleanse", "Numb"]},
        {"type": "short_answer", "answers": ["collagen"]},
    ]
    for q in questions:
        qtype = question_type(q["type"])
        own = {k: v for k, v in q.items() if k != "type"}
        assert normalise_question({"type": q["type"], **qtype.from_editor(qtype.editor_values(q))}) == \
            normalise_question({"type": q["type"], **own}), q["type"]
    assert question_type("multiple").editor_values({"type": "multiple"})["scoring"] == "all_or_nothing"
    assert question_type("numerical").editor_template is None


def test_what_the_editor_cannot_show_is_described_and_kept_on_save():
    tf = {"type": "true_false", "answer": True, "feedback_right": "Good", "feedback_wrong": "Look again"}
    assert question_type("true_false").editor_notes(tf) == ["feedback for a right answer: Good",
                                                           "feedback for a wrong answer: Look again"]
    assert question_type("true_false").keep_unedited({"type": "true_false", "answer": False}, tf) == {
        "type": "true_false", "answer": False, "feedback_right": "Good", "feedback_wrong": "Look again"}
    matching = {"type": "matching", "pairs": [], "distractors": ["Drum"]}
    assert question_type("matching").editor_notes(matching) == ["extra right side no item matches: 'Drum'"]
    kept = question_type("matching").keep_unedited({"type": "matching", "pairs": []}, matching)
    assert kept["distractors"] == ["Drum"]
    short = {"type": "short_answer", "answers": [{"text": "collagen", "weight": 50, "feedback": "Half"}, "elastin"]}
    assert question_type("short_answer").editor_notes(short) == ["answer 'collagen' is worth 50% with feedback 'Half'"]
    kept = question_type("short_answer").keep_unedited({"type": "short_answer", "answers": ["collagen", "new"]}, short)
    assert kept["answers"] == [{"text": "collagen", "weight": 50, "feedback": "Half"}, "new"]
    single = {"type": "single", "choices": [{"text": "A", "correct": True}, {"text": "B", "weight": 50}]}
    edited = {"type": "single", "choices": [{"text": "A", "correct": True}, {"text": "B"}, {"text": "C"}]}
    assert question_type("single").keep_unedited(edited, single)["choices"][1:] == [{"text": "B", "weight": 50},
                                                                                   {"text": "C"}]
    numerical = {"type": "numerical", "answers": [{"value": 0.25, "tolerance": 0.05}], "unit": "mm"}
    assert question_type("numerical").editor_notes(numerical) == ["answer 0.25 ± 0.05 is worth 100%", "unit: mm"]
    assert question_type("numerical").keep_unedited({"type": "numerical"}, numerical) == numerical
