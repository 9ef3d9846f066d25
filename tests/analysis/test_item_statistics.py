"""Item analysis: numbers worked out by hand, a published KR-20 example, edge cases, flags."""
import math
import statistics

import pytest

from trainer.analysis.item_statistics import (
    GradedAttempt,
    ItemResponse,
    QuestionInfo,
    analyse_quiz,
    cronbach_alpha,
    kr20,
    score_bucket_labels,
    score_buckets,
    statistics_csv_rows,
)

# --- factories ---------------------------------------------------------------------------


def attempt(attempt_id, **items):
    """Build an attempt; each item is a fraction or a (fraction, chosen labels) pair."""
    responses = {}
    for key, value in items.items():
        if isinstance(value, tuple):
            fraction, chosen = value
            responses[key] = ItemResponse(fraction, tuple(chosen))
        else:
            responses[key] = ItemResponse(value)
    return GradedAttempt(attempt_id=attempt_id, user_id=f"user-{attempt_id}", items=responses)


def choice_question(key, labels="ABCD", correct="A"):
    return QuestionInfo(key, tuple(labels), tuple(correct))


def item_named(analysis, key):
    return next(item for item in analysis.items if item.question_key == key)


def choice_named(item, label):
    return next(choice for choice in item.choices if choice.label == label)


def flag_codes(analysis, key):
    return [flag.code for flag in analysis.flags if flag.question_key == key]


# Six attempts, three 0/1 questions, everyone saw everything; q1 is a choice question keyed A.
#
#   attempt  q1 (chosen)  q2  q3  total  score%
#   1        1 (A)        1   1   3      100
#   2        1 (A)        1   0   2      66.67
#   3        1 (A)        0   1   2      66.67
#   4        0 (B)        1   0   1      33.33
#   5        1 (A)        0   0   1      33.33
#   6        0 (C)        0   0   0      0
def six_attempts():
    return [
        attempt(1, q1=(1.0, "A"), q2=1.0, q3=1.0),
        attempt(2, q1=(1.0, "A"), q2=1.0, q3=0.0),
        attempt(3, q1=(1.0, "A"), q2=0.0, q3=1.0),
        attempt(4, q1=(0.0, "B"), q2=1.0, q3=0.0),
        attempt(5, q1=(1.0, "A"), q2=0.0, q3=0.0),
        attempt(6, q1=(0.0, "C"), q2=0.0, q3=0.0),
    ]


SIX_QUESTIONS = [choice_question("q1"), QuestionInfo("q2"), QuestionInfo("q3")]


# --- facility ----------------------------------------------------------------------------


def test_facility_is_the_mean_fraction_over_attempts_that_saw_the_question():
    analysis = analyse_quiz(six_attempts(), SIX_QUESTIONS)
    # q1: 1+1+1+0+1+0 = 4 of 6; q2: 3 of 6; q3: 2 of 6
    assert item_named(analysis, "q1").facility == pytest.approx(4 / 6)
    assert item_named(analysis, "q2").facility == pytest.approx(0.5)
    assert item_named(analysis, "q3").facility == pytest.approx(2 / 6)
    assert [item.times_seen for item in analysis.items] == [6, 6, 6]


def test_facility_averages_partial_credit():
    attempts = [
        attempt(1, q1=0.5, q2=1.0),
        attempt(2, q1=1.0, q2=1.0),
        attempt(3, q1=0.0, q2=1.0),
        attempt(4, q1=0.25, q2=1.0),
    ]
    analysis = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")])
    # (0.5 + 1 + 0 + 0.25) / 4 = 1.75 / 4 = 0.4375
    assert item_named(analysis, "q1").facility == pytest.approx(0.4375)


# --- discrimination ----------------------------------------------------------------------


def test_discrimination_is_the_correlation_with_the_rest_of_the_attempt():
    analysis = analyse_quiz(six_attempts(), SIX_QUESTIONS)
    # q1 x = 1,1,1,0,1,0; rest = mean(q2, q3) y = 1, .5, .5, .5, 0, 0
    # x̄ = 4/6 = 2/3, ȳ = 2.5/6 = 5/12
    # Sxy = Σxy - n x̄ ȳ = (1 + .5 + .5 + 0 + 0 + 0) - 6 * 2/3 * 5/12 = 2 - 5/3 = 1/3
    # Sxx = Σx² - n x̄² = 4 - 6 * 4/9 = 4/3
    # Syy = Σy² - n ȳ² = 1.75 - 6 * 25/144 = 42/24 - 25/24 = 17/24
    # r = (1/3) / sqrt(4/3 * 17/24) = (1/3) / sqrt(17/18) ≈ 0.3430
    expected = (1 / 3) / math.sqrt(17 / 18)
    assert item_named(analysis, "q1").discrimination == pytest.approx(expected)
    assert expected == pytest.approx(0.3430, abs=1e-4)


def test_discrimination_excludes_the_item_from_the_total():
    analysis = analyse_quiz(six_attempts(), SIX_QUESTIONS)
    # Uncorrected, q1 against the full score 3,2,2,1,1,0 would be inflated by q1 itself:
    # Sxy = (3+2+2+1) - 6 * 2/3 * 1.5 = 8 - 6 = 2; Sxx = 4/3; Syy = 5.5
    # r = 2 / sqrt(4/3 * 5.5) ≈ 0.7385, far above the corrected 0.3430.
    uncorrected = 2 / math.sqrt(4 / 3 * 5.5)
    assert item_named(analysis, "q1").discrimination < uncorrected - 0.3


def test_discrimination_with_random_draws_uses_the_mean_of_the_other_items_present():
    attempts = [
        attempt(1, q1=1.0, q2=1.0, q3=1.0),  # rest = mean(1, 1) = 1
        attempt(2, q1=1.0, q2=0.0),  # rest = 0
        attempt(3, q1=0.0, q3=0.0, q4=1.0),  # rest = mean(0, 1) = .5
        attempt(4, q1=0.0, q2=0.0, q4=0.0),  # rest = 0
        attempt(5, q1=1.0, q3=1.0, q4=1.0),  # rest = 1
        attempt(6, q2=1.0, q3=1.0),  # did not see q1
        attempt(7, q1=1.0),  # saw only q1: no rest score, left out of r
    ]
    questions = [QuestionInfo(key) for key in ("q1", "q2", "q3", "q4")]
    analysis = analyse_quiz(attempts, questions)
    # x = 1,1,0,0,1; y = 1,0,.5,0,1; x̄ = .6, ȳ = .5
    # Sxy = 2 - 5 * .6 * .5 = .5; Sxx = 3 - 5 * .36 = 1.2; Syy = 2.25 - 5 * .25 = 1
    # r = .5 / sqrt(1.2) ≈ 0.4564
    q1 = item_named(analysis, "q1")
    assert q1.discrimination == pytest.approx(0.5 / math.sqrt(1.2))
    # Facility and times seen still count attempt 7: 4 right of 6.
    assert q1.times_seen == 6
    assert q1.facility == pytest.approx(4 / 6)


def test_discrimination_is_none_when_everyone_got_the_item_right():
    attempts = [
        attempt(1, q1=1.0, q2=1.0),
        attempt(2, q1=1.0, q2=0.0),
        attempt(3, q1=1.0, q2=0.5),
    ]
    analysis = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")])
    assert item_named(analysis, "q1").discrimination is None
    assert item_named(analysis, "q1").facility == 1.0


def test_discrimination_is_none_when_the_rest_score_does_not_vary():
    attempts = [
        attempt(1, q1=1.0, q2=0.5),
        attempt(2, q1=0.0, q2=0.5),
        attempt(3, q1=1.0, q2=0.5),
    ]
    analysis = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")])
    assert item_named(analysis, "q1").discrimination is None


def test_discrimination_is_none_with_fewer_than_three_attempts():
    attempts = [attempt(1, q1=1.0, q2=1.0), attempt(2, q1=0.0, q2=0.0)]
    analysis = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")])
    assert item_named(analysis, "q1").discrimination is None


# --- distractors and thirds --------------------------------------------------------------


def test_distractor_counts_by_thirds_break_ties_by_attempt_id():
    analysis = analyse_quiz(six_attempts(), SIX_QUESTIONS)
    q1 = item_named(analysis, "q1")
    # Ranked by score: 1 (100), 2 and 3 (66.67, tie), 4 and 5 (33.33, tie), 6 (0).
    # n = 6, so each third holds 6 // 3 = 2 attempts.
    # Top: 1, then 2 wins the tie with 3 on attempt_id -> {1, 2}, both chose A.
    # Bottom: the last two of 1,2,3,4,5,6 -> {5, 6}; 5 chose A, 6 chose C.
    assert (q1.top_third_size, q1.bottom_third_size) == (2, 2)
    a, b, c, d = (choice_named(q1, label) for label in "ABCD")
    assert (a.is_key, b.is_key) == (True, False)
    assert (a.picked_by_top_third, a.picked_by_bottom_third, a.picked_overall) == (2, 1, 4)
    assert (b.picked_by_top_third, b.picked_by_bottom_third, b.picked_overall) == (0, 0, 1)
    assert (c.picked_by_top_third, c.picked_by_bottom_third, c.picked_overall) == (0, 1, 1)
    assert (d.picked_by_top_third, d.picked_by_bottom_third, d.picked_overall) == (0, 0, 0)


def test_thirds_give_the_remainder_to_the_middle():
    # Ten attempts with distinct scores: thirds are 10 // 3 = 3, middle 4.
    attempts = [attempt(i, q1=(1.0, "A"), q2=i / 10) for i in range(10)]
    analysis = analyse_quiz(attempts, [choice_question("q1"), QuestionInfo("q2")])
    q1 = item_named(analysis, "q1")
    assert (q1.top_third_size, q1.bottom_third_size) == (3, 3)
    assert choice_named(q1, "A").picked_by_top_third == 3


def test_thirds_are_empty_with_fewer_than_three_attempts():
    attempts = [attempt(1, q1=(1.0, "A")), attempt(2, q1=(0.0, "B"))]
    q1 = item_named(analyse_quiz(attempts, [choice_question("q1")]), "q1")
    assert (q1.top_third_size, q1.bottom_third_size) == (0, 0)
    assert choice_named(q1, "A").picked_overall == 1


# --- quiz scores -------------------------------------------------------------------------


def test_quiz_mean_median_and_sample_sd_of_percentages():
    quiz = analyse_quiz(six_attempts(), SIX_QUESTIONS).quiz
    # Scores 100, 66.67, 66.67, 33.33, 33.33, 0: mean = 300 / 6 = 50;
    # median = (66.67 + 33.33) / 2 = 50.
    # Totals 3,2,2,1,1,0 have Σ(x - 1.5)² = 2.25+.25+.25+.25+.25+2.25 = 5.5,
    # sample variance 5.5 / 5 = 1.1; in percent (× 100/3) the variance is 1.1 × 10000/9.
    assert quiz.attempt_count == 6
    assert quiz.mean_percent == pytest.approx(50)
    assert quiz.median_percent == pytest.approx(50)
    assert quiz.sd_percent == pytest.approx(math.sqrt(1.1 * 10000 / 9))
    assert quiz.sd_percent == pytest.approx(34.96, abs=0.01)


def test_score_distribution_puts_100_in_the_last_bucket():
    quiz = analyse_quiz(six_attempts(), SIX_QUESTIONS).quiz
    # 0 -> 0-10; 33.33 ×2 -> 30-40; 66.67 ×2 -> 60-70; 100 -> 90-100
    assert quiz.score_buckets == [1, 0, 0, 2, 0, 0, 2, 0, 0, 1]
    assert quiz.score_bucket_labels[0] == "0-10%"
    assert quiz.score_bucket_labels[-1] == "90-100%"


def test_score_buckets_treat_a_boundary_as_the_start_of_the_next_bucket():
    # 70 computed in floating point may come out as 69.99999999999999.
    assert score_buckets([10.0, 69.99999999999999, 70.0, 99.9])[1] == 1
    assert score_buckets([69.99999999999999, 70.0])[7] == 2
    assert score_buckets([99.9, 100.0])[9] == 2
    assert len(score_bucket_labels()) == 10


# --- reliability -------------------------------------------------------------------------


def test_cronbach_alpha_and_kr20_on_a_small_0_1_matrix():
    quiz = analyse_quiz(six_attempts(), SIX_QUESTIONS).quiz
    # Item p: q1 = 4/6, q2 = 3/6, q3 = 2/6; Σpq = 2/9 + 1/4 + 2/9 = 25/36 (population variances)
    # Totals 3,2,2,1,1,0: population variance 5.5 / 6 = 11/12
    # alpha = KR-20 = 3/2 × (1 - (25/36) / (11/12)) = 3/2 × (1 - 25/33) = 3/2 × 8/33 = 4/11
    assert quiz.reliability_question_keys == ("q1", "q2", "q3")
    assert quiz.cronbach_alpha == pytest.approx(4 / 11)
    assert quiz.kr20 == pytest.approx(4 / 11)


def test_standard_error_of_measurement_is_sd_times_root_of_one_minus_alpha():
    quiz = analyse_quiz(six_attempts(), SIX_QUESTIONS).quiz
    # SD² = 11000/9, 1 - alpha = 7/11, so SEM = sqrt(11000/9 × 7/11) = sqrt(7000) / 3 ≈ 27.89
    assert quiz.standard_error_percent == pytest.approx(math.sqrt(7000) / 3)


def test_cronbach_alpha_with_partial_credit_and_no_kr20():
    # rows = attempts, columns = q1, q2
    #   1, .5 | .5, .5 | 0, 0 | 1, 1
    # q1 mean .625, Σ(dev²) = .140625+.015625+.390625+.140625 = .6875, pvariance = .171875
    # q2 mean .5, Σ(dev²) = 0+0+.25+.25 = .5, pvariance = .125
    # totals 1.5, 1, 0, 2: mean 1.125, Σ(dev²) = 2.1875, pvariance = .546875
    # alpha = 2 × (1 - .296875 / .546875) = 2 × (1 - 19/35) = 32/35 ≈ 0.9143
    attempts = [
        attempt(1, q1=1.0, q2=0.5),
        attempt(2, q1=0.5, q2=0.5),
        attempt(3, q1=0.0, q2=0.0),
        attempt(4, q1=1.0, q2=1.0),
    ]
    quiz = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")]).quiz
    assert quiz.cronbach_alpha == pytest.approx(32 / 35)
    assert quiz.kr20 is None


def test_reliability_uses_only_the_questions_every_attempt_saw():
    attempts = [
        attempt(1, q1=1.0, q2=1.0, q3=1.0),
        attempt(2, q1=1.0, q2=0.0, q4=0.0),
        attempt(3, q1=0.0, q2=0.0, q3=1.0),
        attempt(4, q1=0.0, q2=1.0, q4=1.0),
        attempt(5, q1=1.0, q2=1.0, q3=0.0),
    ]
    questions = [QuestionInfo(key) for key in ("q1", "q2", "q3", "q4")]
    quiz = analyse_quiz(attempts, questions).quiz
    # Only q1 and q2 are in every attempt.
    # q1 = 1,1,0,0,1 (p .6, pq .24); q2 = 1,0,0,1,1 (p .6, pq .24); Σpq = .48
    # totals 2,1,0,1,2: mean 1.2, Σ(dev²) = .64+.04+1.44+.04+.64 = 2.8, pvariance = .56
    # alpha = 2 × (1 - .48/.56) = 2 × 1/7 = 2/7
    assert quiz.reliability_question_keys == ("q1", "q2")
    assert quiz.cronbach_alpha == pytest.approx(2 / 7)
    assert quiz.kr20 == pytest.approx(2 / 7)


def test_reliability_is_none_when_fewer_than_two_questions_are_common():
    attempts = [
        attempt(1, q1=1.0, q2=1.0),
        attempt(2, q1=0.0, q3=1.0),
        attempt(3, q1=1.0, q2=0.0),
    ]
    quiz = analyse_quiz(attempts, [QuestionInfo(k) for k in ("q1", "q2", "q3")]).quiz
    assert quiz.reliability_question_keys == ("q1",)
    assert quiz.cronbach_alpha is None
    assert quiz.kr20 is None
    assert quiz.standard_error_percent is None


def test_reliability_is_none_when_total_scores_do_not_vary():
    attempts = [attempt(1, q1=1.0, q2=0.0), attempt(2, q1=0.0, q2=1.0)]
    quiz = analyse_quiz(attempts, [QuestionInfo("q1"), QuestionInfo("q2")]).quiz
    assert quiz.cronbach_alpha is None
    assert quiz.kr20 is None
    assert quiz.sd_percent == 0
    assert quiz.standard_error_percent is None


# Published worked example: K. L. Wuensch, "The Kuder-Richardson 20", East Carolina
# University, https://core.ecu.edu/wuenschk/StatHelp/KR20.txt -- ten students, ten 0/1 items.
# The page publishes the matrix, every p, q and p*q, and the total-score variance 5.84
# (population: Σ(dev²) = 58.4 over n = 10). It leaves the last step to the reader:
# Σpq = 5 × .21 + 3 × .24 + .16 + .25 = 2.18, KR-20 = 10/9 × (1 - 2.18/5.84) ≈ 0.6963.
WUENSCH_MATRIX = {
    "A": "1111110110",
    "B": "1011011101",
    "C": "1111011001",
    "D": "0010001000",
    "E": "0000010010",
    "F": "1110111111",
    "G": "1101110111",
    "H": "1111111101",
    "I": "0101111101",
    "J": "1101101110",
}
WUENSCH_P = [0.7, 0.7, 0.6, 0.7, 0.6, 0.8, 0.7, 0.7, 0.5, 0.6]


def wuensch_matrix_rows():
    return [[float(cell) for cell in row] for row in WUENSCH_MATRIX.values()]


def test_published_kr20_example_reproduces_the_published_intermediate_values():
    rows = wuensch_matrix_rows()
    assert [sum(row) for row in rows] == [8, 7, 7, 2, 2, 9, 8, 9, 7, 7]
    assert [statistics.fmean(column) for column in zip(*rows, strict=True)] == pytest.approx(WUENSCH_P)
    assert sum(p * (1 - p) for p in WUENSCH_P) == pytest.approx(2.18)
    assert statistics.pvariance([sum(row) for row in rows]) == pytest.approx(5.84)


def test_published_kr20_example_through_analyse_quiz():
    attempts = [
        attempt(student, **{f"item{i + 1}": float(cell) for i, cell in enumerate(row)})
        for student, row in WUENSCH_MATRIX.items()
    ]
    questions = [QuestionInfo(f"item{i}") for i in range(1, 11)]
    analysis = analyse_quiz(attempts, questions)
    expected = 10 / 9 * (1 - 2.18 / 5.84)
    assert expected == pytest.approx(0.6963, abs=1e-4)
    assert analysis.quiz.kr20 == pytest.approx(expected)
    assert analysis.quiz.cronbach_alpha == pytest.approx(expected)
    assert [item.facility for item in analysis.items] == pytest.approx(WUENSCH_P)


def test_alpha_does_not_depend_on_the_variance_convention_if_it_is_the_same_throughout():
    # Independent check of cronbach_alpha: the textbook formula with sample variances (n - 1)
    # for both items and totals; the n/(n - 1) factors cancel.
    rows = wuensch_matrix_rows()
    k = len(rows[0])
    item_variances = sum(statistics.variance(column) for column in zip(*rows, strict=True))
    total_variance = statistics.variance([sum(row) for row in rows])
    with_sample_variances = k / (k - 1) * (1 - item_variances / total_variance)
    assert cronbach_alpha(rows) == pytest.approx(with_sample_variances)
    assert kr20(rows) == pytest.approx(with_sample_variances)


# --- edge cases --------------------------------------------------------------------------


def test_no_attempts_gives_empty_statistics_and_no_flags():
    analysis = analyse_quiz([], [choice_question("q1")], min_attempts_for_flags=0)
    q1 = item_named(analysis, "q1")
    assert (q1.times_seen, q1.facility, q1.discrimination) == (0, None, None)
    assert [c.picked_overall for c in q1.choices] == [0, 0, 0, 0]
    quiz = analysis.quiz
    assert quiz.attempt_count == 0
    assert (quiz.mean_percent, quiz.median_percent, quiz.sd_percent) == (None, None, None)
    assert quiz.score_buckets == [0] * 10
    assert (quiz.cronbach_alpha, quiz.kr20, quiz.standard_error_percent) == (None, None, None)
    assert analysis.flags == []


def test_one_attempt_has_a_mean_but_no_spread_or_reliability():
    analysis = analyse_quiz([attempt(1, q1=1.0, q2=0.5)], [QuestionInfo("q1"), QuestionInfo("q2")])
    quiz = analysis.quiz
    assert quiz.attempt_count == 1
    assert quiz.mean_percent == pytest.approx(75)
    assert quiz.median_percent == pytest.approx(75)
    assert quiz.sd_percent is None
    assert quiz.cronbach_alpha is None
    assert quiz.standard_error_percent is None
    assert item_named(analysis, "q1").discrimination is None


def test_attempts_without_items_are_left_out():
    attempts = [attempt(1, q1=1.0), GradedAttempt(2, "user-2", {})]
    assert analyse_quiz(attempts, [QuestionInfo("q1")]).quiz.attempt_count == 1


def test_questions_missing_from_the_metadata_still_get_a_row():
    attempts = [attempt(1, q1=1.0, gone=0.0)]
    analysis = analyse_quiz(attempts, [QuestionInfo("q1")])
    assert [item.question_key for item in analysis.items] == ["q1", "gone"]
    assert item_named(analysis, "gone").choices == []


def test_a_fraction_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError):
        ItemResponse(1.5)


# --- flags -------------------------------------------------------------------------------


FILLERS = ("q2", "q3", "q4", "q5")


def flag_quiz(q1_responses, *, rest=None, questions=None, min_attempts=10):
    """Analyse attempts whose q1 responses are given; four filler items set each rest score.

    Attempt i scores rest[i] (default i/n) on every filler, so rest scores rise with i, and
    q1 is only a fifth of the total that ranks attempts into thirds.
    """
    rest = rest if rest is not None else [i / len(q1_responses) for i in range(len(q1_responses))]
    attempts = [
        attempt(i, q1=response, **{key: rest_fraction for key in FILLERS})
        for i, (response, rest_fraction) in enumerate(zip(q1_responses, rest, strict=True))
    ]
    return analyse_quiz(
        attempts,
        questions or [choice_question("q1", labels="AB")] + [QuestionInfo(k) for k in FILLERS],
        min_attempts_for_flags=min_attempts,
    )


def test_too_easy_fires_above_ninety_percent():
    # 19 of 20 right: facility .95; everyone picked one of the two choices.
    responses = [(1.0, "A")] * 19 + [(0.0, "B")]
    assert "too_easy" in flag_codes(flag_quiz(responses), "q1")


def test_too_easy_does_not_fire_at_exactly_ninety_percent():
    responses = [(0.0, "B")] + [(1.0, "A")] * 9  # 9 of 10
    assert "too_easy" not in flag_codes(flag_quiz(responses), "q1")


def test_too_hard_fires_below_thirty_percent():
    responses = [(1.0, "A")] * 2 + [(0.0, "B")] * 8  # facility .2
    analysis = flag_quiz(responses)
    assert "too_hard" in flag_codes(analysis, "q1")
    message = next(f.message for f in analysis.flags if f.code == "too_hard")
    assert "answer key" in message


def test_too_hard_does_not_fire_at_thirty_percent():
    responses = [(0.0, "B")] * 7 + [(1.0, "A")] * 3  # facility .3, the right answers on top
    assert "too_hard" not in flag_codes(flag_quiz(responses), "q1")


def test_low_discrimination_fires_when_weak_candidates_do_better():
    # Rest scores rise with the index; the first five (weakest) get q1 right: r < 0.
    responses = [(1.0, "A")] * 5 + [(0.0, "B")] * 5
    analysis = flag_quiz(responses)
    assert item_named(analysis, "q1").discrimination < 0
    assert "low_discrimination" in flag_codes(analysis, "q1")


def test_low_discrimination_does_not_fire_when_strong_candidates_do_better():
    responses = [(0.0, "B")] * 5 + [(1.0, "A")] * 5
    analysis = flag_quiz(responses)
    assert item_named(analysis, "q1").discrimination > 0.8
    assert flag_codes(analysis, "q1") == []


def test_low_discrimination_fires_just_below_the_threshold():
    # x = 0,1,1,0,0,1,0,1,0,1 against rest y = 0, .1, ..., .9: x̄ = .5, ȳ = .45
    # Sxy = (.1+.2+.5+.7+.9) - 10 × .5 × .45 = 2.4 - 2.25 = .15; Sxx = 5 - 2.5 = 2.5
    # Syy = 2.85 - 10 × .2025 = .825; r = .15 / sqrt(2.5 × .825) ≈ 0.1044
    responses = [(1.0, "A") if right else (0.0, "B") for right in (0, 1, 1, 0, 0, 1, 0, 1, 0, 1)]
    analysis = flag_quiz(responses)
    assert item_named(analysis, "q1").discrimination == pytest.approx(0.15 / (2.0625**0.5))
    assert "low_discrimination" in flag_codes(analysis, "q1")


def test_unused_distractor_fires_when_nobody_picked_it():
    questions = [choice_question("q1", labels="ABC"), QuestionInfo("q2")]
    responses = [(0.0, "B")] * 5 + [(1.0, "A")] * 5
    analysis = flag_quiz(responses, questions=questions)
    unused = [f for f in analysis.flags if f.code == "unused_distractor"]
    assert [f.question_key for f in unused] == ["q1"]
    assert "'C'" in unused[0].message


def test_unused_key_is_not_an_unused_distractor():
    # Nobody picks the key A: that is "too hard", not an unused distractor.
    responses = [(0.0, "B")] * 10
    codes = flag_codes(flag_quiz(responses), "q1")
    assert "unused_distractor" not in codes
    assert "too_hard" in codes


def test_distractor_beats_key_fires_when_the_top_third_prefers_a_distractor():
    questions = [choice_question("q1", labels="ABC")] + [QuestionInfo(k) for k in FILLERS]
    # 12 attempts, rest i/12. Totals (q1 + 4 × rest) / 5: attempt 8 (A) 3.67/5 = .73,
    # 9-11 (B) .60, .67, .73; the best of the rest, 7 (C), .47 and 3 (A) .40.
    # So the top third (12 // 3 = 4) is 8-11: three chose B (wrong), one chose A (key).
    responses = (
        [(1.0, "A")] * 4 + [(0.0, "C")] * 4 + [(1.0, "A")] + [(0.0, "B")] * 3
    )
    rest = [i / 12 for i in range(12)]
    analysis = flag_quiz(responses, rest=rest, questions=questions)
    q1 = item_named(analysis, "q1")
    assert choice_named(q1, "B").picked_by_top_third == 3
    assert choice_named(q1, "A").picked_by_top_third == 1
    beats = [f for f in analysis.flags if f.code == "distractor_beats_key"]
    assert len(beats) == 1
    assert "'B'" in beats[0].message and "mis-keyed" in beats[0].message


def test_distractor_beats_key_does_not_fire_when_the_top_third_prefers_the_key():
    questions = [choice_question("q1", labels="ABC")] + [QuestionInfo(k) for k in FILLERS]
    # Top third is attempts 8-11 again: three chose A (key), one chose B.
    responses = [(0.0, "B")] * 4 + [(0.0, "C")] * 4 + [(1.0, "A")] * 3 + [(0.0, "B")]
    analysis = flag_quiz(responses, rest=[i / 12 for i in range(12)], questions=questions)
    assert "distractor_beats_key" not in flag_codes(analysis, "q1")


def test_no_flags_below_the_minimum_number_of_attempts():
    # Nine attempts, all right, distractor B never picked: too easy and unused, but too few.
    responses = [(1.0, "A")] * 9
    assert flag_codes(flag_quiz(responses), "q1") == []
    assert set(flag_codes(flag_quiz(responses, min_attempts=9), "q1")) == {
        "too_easy",
        "unused_distractor",
    }


def test_distractor_beats_key_compares_with_the_least_picked_of_several_keys():
    questions = [choice_question("q1", labels="ABC", correct="AB")] + [
        QuestionInfo(k) for k in FILLERS
    ]
    # Top third (attempts 8-11): everyone picked A, one picked B as well, two picked C.
    responses = [(0.0, "C")] * 8 + [(1.0, "AB"), (0.5, "AC"), (0.5, "AC"), (0.5, "A")]
    analysis = flag_quiz(responses, rest=[i / 12 for i in range(12)], questions=questions)
    beats = [f for f in analysis.flags if f.code == "distractor_beats_key"]
    assert len(beats) == 1
    assert "'C' (2 of 4)" in beats[0].message and "key 'B' (1)" in beats[0].message


def test_every_flag_says_what_to_do():
    everyone_right = flag_quiz([(1.0, "A")] * 20, rest=[0.5] * 20)  # too easy, B unused
    nobody_right = flag_quiz([(0.0, "B")] * 10)  # too hard
    top_picks_b = flag_quiz(  # low discrimination, distractor beats key
        [(1.0, "A")] * 8 + [(0.0, "B")] * 4, rest=[i / 12 for i in range(12)]
    )
    flags = everyone_right.flags + nobody_right.flags + top_picks_b.flags
    assert {flag.code for flag in flags} == {
        "too_easy",
        "unused_distractor",
        "too_hard",
        "low_discrimination",
        "distractor_beats_key",
    }
    for flag in flags:
        assert flag.question_key == "q1"
        assert flag.message.endswith(".")
        assert any(verb in flag.message for verb in ("Make", "Check", "Replace", "rewrite"))


# --- CSV ---------------------------------------------------------------------------------


def test_csv_rows_have_a_header_then_one_row_per_question():
    rows = statistics_csv_rows(analyse_quiz(six_attempts(), SIX_QUESTIONS))
    header, *body = rows
    assert header[:4] == ["question", "times_seen", "facility", "discrimination"]
    assert [row[0] for row in body] == ["q1", "q2", "q3"]
    assert all(len(row) == len(header) for row in body)
    q1 = body[0]
    assert q1[1] == 6
    assert q1[2] == pytest.approx(0.6667)
    assert q1[3] == pytest.approx(0.343)
    assert q1[6] == "A*: 2/1/4; B: 0/0/1; C: 0/1/1; D: 0/0/0"


def test_csv_rows_leave_unknown_values_blank_and_list_flag_codes():
    analysis = flag_quiz([(1.0, "A")] * 20, rest=[0.5] * 20)
    q1_row = statistics_csv_rows(analysis)[1]
    assert q1_row[3] == ""  # discrimination undefined: everyone right
    assert q1_row[-1] == "too_easy unused_distractor"
