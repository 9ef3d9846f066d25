"""Item analysis of graded quiz attempts: facility, discrimination, distractors, reliability, flags.

Conventions, so that a reader can trust (and reproduce) the numbers:

* Random draws. An attempt holds only the questions drawn for it. Its score is the mean
  fraction over the items it holds (0..1, shown as a percentage), so attempts that drew
  different questions, or different numbers of them, sit on one scale. Moodle uses the
  attempt's mark instead; with equally weighted questions the two agree.
* Discrimination is the corrected item-total correlation: Pearson's r between an item's
  fraction and the mean fraction over the attempt's *other* items (its rest score). An
  attempt holding only this item has no rest score and is left out of the correlation.
* Thirds. The attempts that saw an item are ranked by score, highest first. The top and the
  bottom third each take n // 3 attempts and the middle takes the rest (n=10 gives 3/4/3;
  n<3 gives empty thirds). Ties across a boundary are broken by attempt_id, ascending, so the
  same data always gives the same report.
* Reliability (Cronbach's alpha and KR-20) is computed over the questions present in every
  attempt, scored as the sum of their fractions. Both use population variances (divide by n)
  for items and totals alike: alpha does not depend on the convention as long as it is the
  same for both, and with it KR-20's p*q is exactly a 0/1 item's variance, so alpha == KR-20
  on 0/1 items.
* The score standard deviation is the sample one (n - 1), in percentage points. The standard
  error of measurement is that SD * sqrt(1 - alpha), also in percentage points.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

SCORE_BUCKET_COUNT = 10

TOO_EASY_ABOVE = 0.9
TOO_HARD_BELOW = 0.3
LOW_DISCRIMINATION_BELOW = 0.2


# --- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResponse:
    """How one attempt did on one question: its fraction of the marks and the choices picked."""

    fraction: float
    chosen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {self.fraction!r}")


@dataclass(frozen=True)
class GradedAttempt:
    """One finished attempt with the responses to the questions it drew, keyed by question."""

    attempt_id: Hashable
    user_id: Hashable
    items: dict[str, ItemResponse]


@dataclass(frozen=True)
class QuestionInfo:
    """What the analysis needs to know about a question; choice questions list their labels."""

    key: str
    choice_labels: tuple[str, ...] = ()
    correct_labels: tuple[str, ...] = ()


# --- output ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceStatistics:
    """How often one choice was picked, overall and by the top and bottom thirds."""

    label: str
    is_key: bool
    picked_overall: int
    picked_by_top_third: int
    picked_by_bottom_third: int


@dataclass(frozen=True)
class ItemStatistics:
    """The statistics of one question over the attempts that saw it."""

    question_key: str
    times_seen: int
    facility: float | None
    discrimination: float | None
    top_third_size: int
    bottom_third_size: int
    choices: list[ChoiceStatistics] = field(default_factory=list)


@dataclass(frozen=True)
class QuizStatistics:
    """Score summary and reliability of the quiz as a whole."""

    attempt_count: int
    mean_percent: float | None
    median_percent: float | None
    sd_percent: float | None
    score_buckets: list[int]
    score_bucket_labels: list[str]
    #: the questions every attempt saw, over which alpha and KR-20 are computed
    reliability_question_keys: tuple[str, ...]
    cronbach_alpha: float | None
    kr20: float | None
    standard_error_percent: float | None


@dataclass(frozen=True)
class Flag:
    """Something a trainer should look at on one question, with what to do about it."""

    question_key: str
    code: str
    message: str


@dataclass(frozen=True)
class QuizAnalysis:
    """Everything the item-analysis report shows."""

    items: list[ItemStatistics]
    quiz: QuizStatistics
    flags: list[Flag]


# --- entry points ------------------------------------------------------------------------


def analyse_quiz(
    attempts: Sequence[GradedAttempt],
    questions: Sequence[QuestionInfo],
    *,
    min_attempts_for_flags: int = 10,
) -> QuizAnalysis:
    """Analyse graded attempts; flag only questions seen by at least `min_attempts_for_flags`."""
    # An attempt without items has no score; it would only distort the counts.
    attempts = [attempt for attempt in attempts if attempt.items]
    infos = _question_infos(attempts, questions)
    scores = {attempt.attempt_id: attempt_score(attempt) for attempt in attempts}
    items = [item_statistics(info, attempts, scores) for info in infos]
    flags = [
        flag
        for info, item in zip(infos, items, strict=True)
        for flag in flags_for_item(info, item, min_attempts=min_attempts_for_flags)
    ]
    return QuizAnalysis(items=items, quiz=quiz_statistics(attempts), flags=flags)


def statistics_csv_rows(analysis: QuizAnalysis) -> list[list]:
    """Return one row per question for a CSV export, header first; unknown values are blank."""
    flag_codes: dict[str, list[str]] = {}
    for flag in analysis.flags:
        flag_codes.setdefault(flag.question_key, []).append(flag.code)
    rows: list[list] = [[
        "question",
        "times_seen",
        "facility",
        "discrimination",
        "top_third_size",
        "bottom_third_size",
        "choices (top/bottom/all; * = key)",
        "flags",
    ]]
    for item in analysis.items:
        choices = "; ".join(
            f"{choice.label}{'*' if choice.is_key else ''}: "
            f"{choice.picked_by_top_third}/{choice.picked_by_bottom_third}/{choice.picked_overall}"
            for choice in item.choices
        )
        rows.append([
            item.question_key,
            item.times_seen,
            _rounded(item.facility),
            _rounded(item.discrimination),
            item.top_third_size,
            item.bottom_third_size,
            choices,
            " ".join(flag_codes.get(item.question_key, [])),
        ])
    return rows


# --- per attempt -------------------------------------------------------------------------


def attempt_score(attempt: GradedAttempt) -> float:
    """Return the attempt's score as the mean fraction over the items it holds (0..1)."""
    return statistics.fmean(response.fraction for response in attempt.items.values())


def rest_score(attempt: GradedAttempt, question_key: str) -> float | None:
    """Return the mean fraction over the attempt's items other than `question_key`, if any."""
    others = [r.fraction for key, r in attempt.items.items() if key != question_key]
    return statistics.fmean(others) if others else None


# --- per item ----------------------------------------------------------------------------


def item_statistics(
    info: QuestionInfo, attempts: Sequence[GradedAttempt], scores: dict[Hashable, float]
) -> ItemStatistics:
    """Compute facility, discrimination and choice counts for one question."""
    seen = [attempt for attempt in attempts if info.key in attempt.items]
    fractions = [attempt.items[info.key].fraction for attempt in seen]
    top, bottom = score_thirds(seen, scores)
    return ItemStatistics(
        question_key=info.key,
        times_seen=len(seen),
        facility=statistics.fmean(fractions) if fractions else None,
        discrimination=corrected_item_total_correlation(info.key, seen),
        top_third_size=len(top),
        bottom_third_size=len(bottom),
        choices=[
            ChoiceStatistics(
                label=label,
                is_key=label in info.correct_labels,
                picked_overall=_count_picked(label, info.key, seen),
                picked_by_top_third=_count_picked(label, info.key, top),
                picked_by_bottom_third=_count_picked(label, info.key, bottom),
            )
            for label in info.choice_labels
        ],
    )


def corrected_item_total_correlation(
    question_key: str, attempts: Sequence[GradedAttempt]
) -> float | None:
    """Return Pearson's r between the item and the rest score; None with n<3 or no variance."""
    pairs = [
        (attempt.items[question_key].fraction, rest)
        for attempt in attempts
        if question_key in attempt.items
        and (rest := rest_score(attempt, question_key)) is not None
    ]
    if len(pairs) < 3:
        return None
    item_fractions, rest_scores = zip(*pairs, strict=True)
    try:
        return statistics.correlation(item_fractions, rest_scores)
    except statistics.StatisticsError:
        # Raised when either side is constant: the correlation is undefined, not zero.
        return None


def score_thirds(
    attempts: Sequence[GradedAttempt], scores: dict[Hashable, float]
) -> tuple[list[GradedAttempt], list[GradedAttempt]]:
    """Return the top and bottom thirds (n // 3 each) by score, ties broken by attempt_id."""
    ranked = sorted(attempts, key=lambda a: (-scores[a.attempt_id], a.attempt_id))
    size = len(ranked) // 3
    if size == 0:
        return [], []
    return ranked[:size], ranked[-size:]


def _count_picked(label: str, question_key: str, attempts: Sequence[GradedAttempt]) -> int:
    return sum(1 for attempt in attempts if label in attempt.items[question_key].chosen)


# --- per quiz ----------------------------------------------------------------------------


def quiz_statistics(attempts: Sequence[GradedAttempt]) -> QuizStatistics:
    """Summarise percentage scores and compute reliability over the questions all attempts saw."""
    percents = [100 * attempt_score(attempt) for attempt in attempts]
    common_keys = questions_in_every_attempt(attempts)
    matrix = [[attempt.items[key].fraction for key in common_keys] for attempt in attempts]
    alpha = cronbach_alpha(matrix)
    sd = statistics.stdev(percents) if len(percents) >= 2 else None
    return QuizStatistics(
        attempt_count=len(attempts),
        mean_percent=statistics.fmean(percents) if percents else None,
        median_percent=statistics.median(percents) if percents else None,
        sd_percent=sd,
        score_buckets=score_buckets(percents),
        score_bucket_labels=score_bucket_labels(),
        reliability_question_keys=common_keys,
        cronbach_alpha=alpha,
        kr20=kr20(matrix),
        standard_error_percent=standard_error_of_measurement(sd, alpha),
    )


def questions_in_every_attempt(attempts: Sequence[GradedAttempt]) -> tuple[str, ...]:
    """Return the keys of the questions every attempt holds, sorted."""
    if not attempts:
        return ()
    common = set(attempts[0].items)
    for attempt in attempts[1:]:
        common &= set(attempt.items)
    return tuple(sorted(common))


def score_buckets(percents: Sequence[float], bucket_count: int = SCORE_BUCKET_COUNT) -> list[int]:
    """Count scores in equal-width buckets over 0..100; 100 falls in the last bucket."""
    width = 100 / bucket_count
    buckets = [0] * bucket_count
    for percent in percents:
        # Rounding first keeps 70.0 computed as 69.99999999999999 out of the 60-70 bucket.
        index = int(round(percent, 9) // width)
        buckets[min(max(index, 0), bucket_count - 1)] += 1
    return buckets


def score_bucket_labels(bucket_count: int = SCORE_BUCKET_COUNT) -> list[str]:
    """Return labels such as '0-10%' for the buckets `score_buckets` fills."""
    width = 100 / bucket_count
    return [f"{i * width:g}-{(i + 1) * width:g}%" for i in range(bucket_count)]


def cronbach_alpha(matrix: Sequence[Sequence[float]]) -> float | None:
    """Return Cronbach's alpha of a rows=attempts, columns=items matrix, or None if undefined."""
    if len(matrix) < 2 or not matrix[0] or len(matrix[0]) < 2:
        return None
    item_count = len(matrix[0])
    item_variances = [statistics.pvariance(column) for column in zip(*matrix, strict=True)]
    total_variance = statistics.pvariance([sum(row) for row in matrix])
    if total_variance == 0:
        return None
    return item_count / (item_count - 1) * (1 - sum(item_variances) / total_variance)


def kr20(matrix: Sequence[Sequence[float]]) -> float | None:
    """Return KR-20 when every cell is 0 or 1, else None; same conventions as alpha."""
    if len(matrix) < 2 or not matrix[0] or len(matrix[0]) < 2:
        return None
    if any(value not in (0, 1) for row in matrix for value in row):
        return None
    item_count = len(matrix[0])
    sum_pq = sum(
        (p := statistics.fmean(column)) * (1 - p) for column in zip(*matrix, strict=True)
    )
    total_variance = statistics.pvariance([sum(row) for row in matrix])
    if total_variance == 0:
        return None
    return item_count / (item_count - 1) * (1 - sum_pq / total_variance)


def standard_error_of_measurement(sd: float | None, reliability: float | None) -> float | None:
    """Return SD * sqrt(1 - reliability), or None when either is unknown."""
    if sd is None or reliability is None:
        return None
    # max() absorbs a reliability a rounding error above 1.
    return sd * math.sqrt(max(0.0, 1 - reliability))


# --- flags -------------------------------------------------------------------------------


def flags_for_item(info: QuestionInfo, item: ItemStatistics, *, min_attempts: int) -> list[Flag]:
    """Return what a trainer should act on for one question; nothing below `min_attempts`."""
    if item.times_seen < max(min_attempts, 1):
        return []
    flags: list[Flag] = []
    n = item.times_seen
    if item.facility is not None and item.facility > TOO_EASY_ABOVE:
        flags.append(Flag(info.key, "too_easy", (
            f"Almost everyone answers this correctly (facility {item.facility:.2f} over {n} "
            "attempts), so it tells you little. Make it harder, for example with more "
            "plausible wrong answers, or retire it."
        )))
    if item.facility is not None and item.facility < TOO_HARD_BELOW:
        flags.append(Flag(info.key, "too_hard", (
            f"Few people answer this correctly (facility {item.facility:.2f} over {n} "
            "attempts). Check the answer key first; if it is right, reword the question or "
            "teach the point better in the module."
        )))
    if item.discrimination is not None and item.discrimination < LOW_DISCRIMINATION_BELOW:
        if item.discrimination < 0:
            what = "people who do well on the rest of the quiz do worse on this question"
        else:
            what = "strong and weak candidates do about equally well on this question"
        flags.append(Flag(info.key, "low_discrimination", (
            f"Low discrimination ({item.discrimination:.2f}): {what}. Check the key and look "
            "for ambiguous wording or a trick, then rewrite or drop the question."
        )))
    distractors = [choice for choice in item.choices if not choice.is_key]
    keys = [choice for choice in item.choices if choice.is_key]
    for choice in distractors:
        if choice.picked_overall == 0:
            flags.append(Flag(info.key, "unused_distractor", (
                f"Nobody chose '{choice.label}' in {n} attempts. Replace it with a mistake "
                "practitioners really make, or remove it."
            )))
    if keys and item.top_third_size:
        # With several correct choices, compare with the one strong candidates pick least.
        weakest_key = min(keys, key=lambda choice: choice.picked_by_top_third)
        for choice in distractors:
            if choice.picked_by_top_third > weakest_key.picked_by_top_third:
                flags.append(Flag(info.key, "distractor_beats_key", (
                    f"The top third chose '{choice.label}' ({choice.picked_by_top_third} of "
                    f"{item.top_third_size}) more often than the key '{weakest_key.label}' "
                    f"({weakest_key.picked_by_top_third}): possibly mis-keyed or ambiguous. "
                    f"Check whether '{choice.label}' is also right or the key is wrong, and "
                    "reword to remove the ambiguity."
                )))
    return flags


# --- small pieces ------------------------------------------------------------------------


def _question_infos(
    attempts: Sequence[GradedAttempt], questions: Sequence[QuestionInfo]
) -> list[QuestionInfo]:
    """Return the given questions, then any question attempts hold without metadata."""
    infos = list(questions)
    known = {info.key for info in infos}
    # A question deleted since the attempts were graded still deserves its row.
    unknown = sorted({key for attempt in attempts for key in attempt.items} - known)
    return infos + [QuestionInfo(key) for key in unknown]


def _rounded(value: float | None, digits: int = 4) -> float | str:
    return "" if value is None else round(value, digits)
