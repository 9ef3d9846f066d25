"""Moodle's grading kept: weights, numerical answers, two true/false feedbacks, matching distractors.

The expected scores are what Moodle gives for the same question and response (qtype_multichoice,
qtype_shortanswer, qtype_numerical, qtype_truefalse, qtype_match), worked out by hand.
"""
import pytest
from werkzeug.datastructures import MultiDict

from trainer.banks.gift import parse_gift
from trainer.quiz.types import question_type, validate_question


def gift_question(text: str) -> dict:
    questions, problems = parse_gift(text)
    assert problems == [] and len(questions) == 1
    question = {**questions[0].data, "explanation": "Why."}
    assert validate_question(question) == []
    return question


def score(question: dict, response) -> float:
    return question_type(question["type"]).score(question, response)


# Moodle's own fixture (question/format/gift/tests/fixtures/questions.gift.txt, "colours").
COLOURS = """::colours:: What's between orange and green in the spectrum?
{
    ~%50%yellow # right; good!
    ~%-100%red # [html]wrong
    ~%50%off-beige # right; good!
    ~%-100%[plain]blue # wrong
}"""


@pytest.mark.parametrize("picked, expected", [
    ([0, 2], 1.0),        # 50 + 50
    ([0], 0.5),           # 50
    ([0, 1], 0.0),        # 50 - 100, floored at 0
    ([0, 1, 2, 3], 0.0),  # 100 - 200, floored at 0
    ([1], 0.0),
])
def test_multiple_answer_weights_grade_as_moodle_sums_them(picked, expected):
    question = gift_question(COLOURS)

    assert question["scoring"] == "weighted"
    assert score(question, picked) == pytest.approx(expected)


def test_weights_of_the_documented_multiple_answer_example_are_not_rewritten():
    # docs: "What two people are entombed in Grant's tomb?" with 0-weight wrong answers: Moodle gives 50%
    # for Grant + Grant's father (50 + 0); "right picks minus wrong picks" would give 0%.
    question = gift_question("Who? {~No one ~%50%Grant ~%50%Grant's wife ~Grant's father}")

    assert score(question, [1, 3]) == pytest.approx(0.5)
    assert score(question, [1, 2]) == pytest.approx(1.0)


@pytest.mark.parametrize("picked, expected", [(3, 1.0), (2, 0.5), (1, 0.25), (0, 0.0)])
def test_single_choice_partial_credit_is_the_picked_weight(picked, expected):
    # docs: "Jesus' hometown" with ~%25%Bethlehem ~%50%Galilee =Nazareth
    question = gift_question("::Jesus' hometown::Jesus Christ was from {\n~Jerusalem#wrong\n"
                             "~%25%Bethlehem#born here\n~%50%Galilee#more specific\n=Nazareth#Yes!}.")

    assert question["stem"] == "Jesus Christ was from _____."
    assert score(question, picked) == pytest.approx(expected)


def test_a_negative_single_choice_weight_is_floored_at_zero():
    question = gift_question("Depth? {=0.25 mm ~%-50%2 mm}")

    assert score(question, 1) == 0.0


@pytest.mark.parametrize("answer, expected", [("Frog", 1.0), ("cat", 0.5), ("dog", 0.0), ("", 0.0)])
def test_short_answer_weights_and_the_wildcard_grade_as_moodle(answer, expected):
    # Moodle's fixture "Shortanswer": =Frog =%50%Cat =%0%* (any other answer: 0 with feedback)
    question = gift_question("::Shortanswer::Which is the best animal?{\n=Frog#Good!\n"
                             "=%50%Cat#What is it with Moodlers and cats?\n=%0%*#Completely wrong\n}")
    qtype = question_type("short_answer")

    assert score(question, answer or None) == pytest.approx(expected)
    if answer == "dog":
        assert qtype.review(question, [], "dog")["feedback"] == "Completely wrong"


@pytest.mark.parametrize("given, expected", [("1822", 1.0), ("1823", 0.5), ("1820", 0.5), ("1825", 0.0)])
def test_numerical_answers_with_tolerance_and_weights(given, expected):
    # docs: "When was Ulysses S. Grant born? {# =1822:0 =%50%1822:2}"
    question = gift_question("When was Ulysses S. Grant born? {#\n    =1822:0\n    =%50%1822:2}")
    qtype = question_type("numerical")

    response = qtype.read_form(question, [], MultiDict({"q1": given}), "q1")
    assert score(question, response) == pytest.approx(expected)


@pytest.mark.parametrize("text, value, tolerance", [
    ("{#1.5:0.25}", 1.5, 0.25), ("{#1..2}", 1.5, 0.5), ("{#3.141..3.142}", 3.1415, 0.0005), ("{#1822}", 1822, None)])
def test_numerical_forms_read_as_value_and_tolerance(text, value, tolerance):
    [answer] = gift_question(f"Depth in mm? {text}")["answers"]

    assert answer["value"] == pytest.approx(value) and answer.get("tolerance") == (
        None if tolerance is None else pytest.approx(tolerance))


def test_numerical_input_accepts_a_decimal_comma_and_the_unit_and_refuses_words():
    qtype = question_type("numerical")
    question = {"id": "d", "type": "numerical", "stem": "Depth?", "unit": "mm",
                "answers": [{"value": 1.5, "tolerance": 0.25}]}

    assert qtype.read_form(question, [], MultiDict({"q": "1,4 mm"}), "q") == pytest.approx(1.4)
    assert score(question, 1.4) == 1.0 and score(question, 1.8) == 0.0
    with pytest.raises(ValueError):
        qtype.read_form(question, [], MultiDict({"q": "deep"}), "q")


def test_true_false_shows_moodles_feedback_for_a_wrong_and_a_right_answer():
    # Moodle's fixture Q1: FALSE#42 is the Ultimate Answer.#You gave the right answer.
    question = gift_question("::Q1:: 42 is the Absolute Answer to everything.{\n"
                             "FALSE#42 is the Ultimate Answer.#You gave the right answer.\n####Reference.}")
    options = question_type("true_false").review(question, [], True)["options"]

    assert {o["text"]: o["feedback"] for o in options} == {"True": "42 is the Ultimate Answer.",
                                                           "False": "You gave the right answer."}
    assert score(question, False) == 1.0 and score(question, True) == 0.0


def test_matching_distractors_are_offered_and_never_right():
    # Moodle's fixture "Moodle activities" has "= -> Chat": an extra answer no item matches.
    question = gift_question("Match.{\n=Forum -> asynchronous\n=Chat room -> synchronous\n= -> broadcast\n}")
    qtype = question_type("matching")
    order = {"left": [0, 1], "right": [2, 0, 1]}

    assert [text for _, text in qtype.view(question, order)["rights"]] == ["broadcast", "asynchronous", "synchronous"]
    response = qtype.read_form(question, order, MultiDict({"q-0": "1", "q-1": "0"}), "q")
    assert response == [0, 2] and score(question, response) == 0.5
    assert qtype.review(question, order, response)["rows"][1]["picked"] == "broadcast"


def test_weights_that_cannot_reach_full_marks_are_refused():
    question = {"id": "w", "type": "multiple", "stem": "s", "explanation": "e", "scoring": "weighted",
                "choices": [{"text": "a", "correct": True, "weight": 40}, {"text": "b", "correct": False, "weight": 0}]}

    assert [p.message for p in validate_question(question)] == ["the positive weights add up to 40%, not 100%"]
