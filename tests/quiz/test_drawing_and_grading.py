import random

from trainer.quiz.drawing import Candidate, draw_questions
from trainer.quiz.grading import grade_attempt


def candidates(n, tag_every=3, seen=()):
    return [Candidate(f"q{i}",
                      frozenset({"safety"} if i % tag_every == 0 else {"other"}), f"q{i}" in seen) for i in range(n)]


def test_draw_honours_count_and_tag_minimums():
    for seed in range(30):
        keys = draw_questions(candidates(30), 10, {"safety": 5}, random.Random(seed))
        assert len(keys) == len(set(keys)) == 10
        assert sum(1 for k in keys if int(k[1:]) % 3 == 0) >= 5


def test_draw_prefers_unseen_questions_on_a_retake():
    seen = {f"q{i}" for i in range(20)}
    keys = draw_questions(candidates(30, seen=seen), 10, {}, random.Random(1))
    assert set(keys) == {f"q{i}" for i in range(20, 30)}


def test_draw_shuffles():
    orders = {tuple(draw_questions(candidates(10), 10, {}, random.Random(s))) for s in range(10)}
    assert len(orders) > 1


def q(qid, critical=False):
    return {"id": qid, "type": "true_false", "stem": "s", "explanation": "e", "answer": True, "critical": critical}


def test_grade_scores_and_pass_mark():
    grade = grade_attempt([(q("a"), True), (q("b"), True), (q("c"), False), (q("d"), None)], 50)
    assert grade.fractions == [1.0, 1.0, 0.0, 0.0] and grade.score_percent == 50.0 and grade.passed
    assert not grade_attempt([(q("a"), True), (q("b"), False)], 51).passed


def test_missing_a_critical_question_fails_whatever_the_score():
    items = [(q(str(i)), True) for i in range(9)] + [(q("crit", critical=True), False)]
    grade = grade_attempt(items, 80)
    assert grade.score_percent == 90.0 and not grade.passed and grade.missed_critical == ["crit"]


def test_a_partly_right_critical_question_fails_the_attempt():
    match = {"id": "crit", "type": "matching", "stem": "s", "explanation": "e", "critical": True,
             "pairs": [{"left": "a", "right": "1"}, {"left": "b", "right": "2"}]}
    items = [(q(str(i)), True) for i in range(9)] + [(match, [0, None])]
    grade = grade_attempt(items, 80)
    assert grade.fractions[-1] == 0.5 and grade.score_percent == 95.0
    assert not grade.passed and grade.missed_critical == ["crit"]


def test_questions_drawn_for_a_tag_minimum_are_not_always_shown_first():
    # Tagged questions are taken first; only the final shuffle spreads them over the attempt.
    tagged = {f"q{i}" for i in range(0, 30, 3)}
    firsts = [draw_questions(candidates(30), 10, {"safety": 3}, random.Random(seed))[:3] for seed in range(20)]
    assert any(not set(first) <= tagged for first in firsts)


def test_the_score_is_a_percentage_with_two_decimals_and_zero_without_questions():
    grade = grade_attempt([(q("a"), True), (q("b"), False), (q("c"), False)], 30)
    assert grade.score_percent == 33.33 and grade.passed
    empty = grade_attempt([], 0)
    assert empty.score_percent == 0.0 and empty.fractions == [] and empty.missed_critical == []


def test_a_question_counts_for_every_tag_it_carries_and_only_the_shortfall_is_added():
    both = [Candidate(f"ab{i}", frozenset({"a", "b"})) for i in range(2)]
    only_b = [Candidate(f"b{i}", frozenset({"b"})) for i in range(9)]
    untagged = [Candidate(f"n{i}", frozenset()) for i in range(10)]
    draws = [draw_questions(both + only_b + untagged, 4, {"a": 2, "b": 3}, random.Random(seed)) for seed in range(30)]
    for keys in draws:
        assert sum(k.startswith("ab") for k in keys) == 2
        assert sum(k.startswith(("ab", "b")) for k in keys) >= 3
    # The two questions tagged a and b already count for b: one more b, and a free choice for the last place.
    assert any(any(k.startswith("n") for k in keys) for keys in draws)
