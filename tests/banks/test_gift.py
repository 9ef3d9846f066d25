"""GIFT import and export (trainer/banks/gift.py)."""
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.banks.gift import gift_unsupported, parse_gift, write_gift

FIXTURES = Path(__file__).parent / "fixtures"


def read_fixture(name):
    return parse_gift((FIXTURES / name).read_text(encoding="utf-8"), name)


def parse_one(text):
    questions, problems = parse_gift(text, "q.gift")
    assert problems == []
    assert len(questions) == 1
    return questions[0].data


def choice(text, correct=False, feedback=None):
    made = {"text": text, "correct": correct}
    if feedback:
        made["feedback"] = feedback
    return made


# --- the documented examples -------------------------------------------------------------

DOCUMENTED = [
    (6, {"id": "gift-which-needle-depth-suits-fine-lines-a819ba33", "type": "single",
         "stem": "Which needle depth suits fine lines on the cheeks?",
         "choices": [choice("2.5 mm"), choice("3.0 mm"), choice("0.5 mm", True)]}),
    (9, {"id": "gift-which-condition-rules-out-treatment-a90ae390", "type": "single",
         "stem": "Which condition rules out treatment today?",
         "choices": [choice("Mild dryness"), choice("Active acne with pustules", True),
                     choice("Fine lines"), choice("Enlarged pores")]}),
    (16, {"id": "cartridge-use", "type": "single",
          "stem": "Needle cartridges are single-use and\nare discarded after",
          "choices": [choice("each client", True), choice("each day"), choice("each week")]}),
    (20, {"id": "gift-what-comes-first-with-a-new-5092ef5c", "type": "single",
          "stem": "What comes first with a new client?",
          "choices": [choice("Numbing cream", feedback="Only after the consultation."),
                      choice("Forehead passes", feedback="Not before screening."),
                      choice("A medical history", True, "Right: screening comes first.")]}),
    (26, {"id": "gift-which-barrier-protects-the-practitioner-a3e744ae", "type": "single",
          "stem": "Which barrier protects the practitioner?",
          "choices": [choice("Nitrile gloves", True), choice("A cotton apron")],
          "explanation": "Gloves protect against blood-borne pathogens."}),
    (32, {"id": "gift-which-sterilisation-method-suits-af4e268f", "type": "single",
          "stem": "Which **sterilisation** method suits reusable tools?",
          "choices": [choice("Autoclave", True, "Steam under pressure."), choice("Boiling water")]}),
    (36, {"id": "redness", "type": "true_false", "answer": True,
          "stem": "Is <b>redness</b> for a day after treatment expected?"}),
    (39, {"id": "gift-which-two-are-signs-of-infection-b470d97e", "type": "multiple",
          "stem": "Which two are signs of infection?", "scoring": "partial",
          "choices": [choice("Spreading warmth", True), choice("Pus", True),
                      choice("Mild redness on day one"), choice("Tightness")]}),
    (46, {"id": "gift-treating-over-an-active-cold-sore-d1834eaa", "type": "true_false",
          "stem": "Treating over an active cold sore is safe.", "answer": False}),
    (48, {"id": "gift-sun-should-be-avoided-for-a-ea1b5f44", "type": "true_false",
          "stem": "Sun should be avoided for a few days after treatment.", "answer": True,
          "feedback_wrong": "Sun can cause hyperpigmentation."}),
    (51, {"id": "gift-match-each-aftercare-day-with-its-9d4028dd", "type": "matching",
          "stem": "Match each aftercare day with its advice.",
          "pairs": [{"left": "Day 1", "right": "Gentle cleansing only"},
                    {"left": "Day 3", "right": "Light moisturiser"},
                    {"left": "Day 7", "right": "Usual routine"}]}),
    (58, {"id": "gift-which-vitamin-a-creams-are-paused-5d1b501f", "type": "short_answer",
          "stem": "Which vitamin A creams are paused before treatment?",
          "answers": ["retinol", "retinoids"]}),
    (61, {"id": "escapes", "type": "single", "stem": "Which ratio = 1:10?",
          "choices": [choice("{one} to ten"), choice("one ~ ten", True, "use # for a hash"),
                      choice("a \\ backslash")]}),
    (66, {"id": "gift-line-one-line-two-is-this-7fb50323", "type": "true_false",
          "stem": "Line one\nline two: is this one question?", "answer": True}),
    (71, {"id": "aftercare-sun", "type": "single", "tags": ["Aftercare"],
          "stem": "After treatment, daily sunscreen is",
          "choices": [choice("required", True), choice("optional")]}),
    (74, {"id": "gift-makeup-may-be-worn-on-the-172c1640", "type": "true_false",
          "tags": ["Aftercare"], "stem": "Makeup may be worn on the same day.", "answer": False}),
]


def test_documented_examples_read_into_exact_question_dicts():
    questions, problems = read_fixture("documented_examples.gift")

    assert problems == []
    assert [(q.line, q.data) for q in questions] == DOCUMENTED
    assert {q.path for q in questions} == {"documented_examples.gift"}


@pytest.mark.parametrize("line, expected", DOCUMENTED, ids=[q["id"] for _, q in DOCUMENTED])
def test_each_documented_example(line, expected):
    questions, _ = read_fixture("documented_examples.gift")

    assert {q.line: q.data for q in questions}[line] == expected


def test_field_lines_point_at_the_stem_and_the_general_feedback():
    questions, _ = read_fixture("documented_examples.gift")
    barrier = next(q for q in questions if q.line == 26)

    assert barrier.line_of("stem") == 26
    assert barrier.line_of("explanation") == 29


def test_untitled_question_gets_the_same_id_from_the_same_stem_anywhere_in_a_file():
    first = parse_one("Is a patch test sensible?{T}")
    again = parse_gift("// other text first\n\nQ{T}\n\nIs a patch test sensible?{F}")[0][1].data

    assert first["id"] == again["id"] == "gift-is-a-patch-test-sensible-" + first["id"][-8:]


def test_title_that_makes_no_id_falls_back_to_the_stem():
    assert parse_one("::漢字::Kanji?{T}")["id"].startswith("gift-kanji-")


def test_comments_and_blank_lines_only_give_nothing():
    assert parse_gift("// just a comment\n\n   \n// another\n") == ([], [])


def test_byte_order_mark_and_crlf_line_endings_are_tolerated():
    question = parse_one("\ufeff::q1::Stem\r\nover two lines{\r\n=a\r\n~b\r\n}\r\n")

    assert question["stem"] == "Stem\nover two lines"
    assert question["choices"] == [choice("a", True), choice("b")]


# --- mapping decisions -------------------------------------------------------------------

def test_weights_without_equals_sign_are_multiple_with_moodles_own_weights():
    question = parse_one("Pick two.{~%50%a ~%50%b ~c}")

    assert question["type"] == "multiple"
    assert question["scoring"] == "weighted"
    assert [(c["correct"], c["weight"]) for c in question["choices"]] == [(True, 50), (True, 50), (False, 0)]


def test_weights_that_grade_like_partial_scoring_read_as_partial():
    question = parse_one("Pick two.{~%50%a ~%50%b ~%-50%c}")

    assert (question["scoring"], [c["correct"] for c in question["choices"]]) == ("partial", [True, True, False])
    assert all("weight" not in c for c in question["choices"])


def test_weight_100_on_one_choice_without_equals_sign_is_still_multiple():
    question = parse_one("Pick.{~%100%a ~%0%b}")

    assert (question["type"], [c["correct"] for c in question["choices"]]) == \
        ("multiple", [True, False])


def test_two_equals_answers_stay_single_for_the_validator_to_report():
    question = parse_one("Pick.{=a =b ~c}")

    assert question["type"] == "single"
    assert [c["correct"] for c in question["choices"]] == [True, True, False]


def test_tildes_only_without_weights_are_single_with_no_correct_choice():
    question = parse_one("Pick.{~a ~b}")

    assert (question["type"], [c["correct"] for c in question["choices"]]) == \
        ("single", [False, False])


def test_moodle_exported_short_answer_with_full_weight_and_empty_feedback():
    question = parse_one("::Moodle user::[html]Anyone who uses Moodle is a ...{\n\t=%100%Moodler#\n}")

    assert question == {"id": "moodle-user", "type": "short_answer",
                        "stem": "Anyone who uses Moodle is a ...", "answers": ["Moodler"]}


def test_bare_answer_is_a_short_answer():
    assert parse_one("1 + 2 \\= {3}") ["answers"] == ["3"]


def test_true_false_with_empty_wrong_feedback_keeps_the_right_feedback():
    question = parse_one("Safe?{FALSE##Indeed not.}")

    assert question["feedback_right"] == "Indeed not." and "feedback_wrong" not in question


def test_true_false_keeps_moodles_two_feedbacks_wrong_first():
    question = parse_one("Safe?{FALSE#Too deep.#Right, far too deep.}")

    assert (question["feedback_wrong"], question["feedback_right"]) == ("Too deep.", "Right, far too deep.")


def test_true_false_with_the_same_feedback_twice_keeps_it_once():
    assert parse_one("Safe?{F#Never.#Never.}")["feedback"] == "Never."


def test_general_feedback_on_true_false():
    question = parse_one("Safe?{TRUE####Because.}")

    assert (question["answer"], question["explanation"]) == (True, "Because.")


def test_format_markers_are_removed_from_answers_and_feedback_too():
    question = parse_one("[plain]Q?{=[html]<i>a</i>#[markdown]*yes* ~b####[moodle]why}")

    assert question == {"id": question["id"], "type": "single", "stem": "Q?",
                        "choices": [choice("<i>a</i>", True, "*yes*"), choice("b")],
                        "explanation": "why"}


def test_category_sets_the_last_path_segment_as_tag_for_following_questions():
    text = ("$CATEGORY: $course$/top/Safety//Hygiene\n\nA?{T}\n\nB?{F}\n\n"
            "$CATEGORY: Aftercare\n\nC?{T}")
    questions, _ = parse_gift(text)

    assert [q.data["tags"] for q in questions] == [["Safety/Hygiene"], ["Safety/Hygiene"],
                                                   ["Aftercare"]]


def test_category_of_only_context_and_top_sets_no_tag():
    questions, _ = parse_gift("$CATEGORY: $course$/top\n\nA?{T}")

    assert "tags" not in questions[0].data


def test_trainer_comment_adds_what_gift_cannot_say():
    text = ('// trainer: {"source": "FDA 2020", "difficulty": 2, "critical": true, '
            '"tags": ["a", "b"], "scoring": "all_or_nothing"}\n'
            "::q::Pick.{~%50%x ~%50%y ~%-50%z}")

    question = parse_one(text)

    assert {k: question[k] for k in ("source", "difficulty", "critical", "tags", "scoring")} == \
        {"source": "FDA 2020", "difficulty": 2, "critical": True, "tags": ["a", "b"],
         "scoring": "all_or_nothing"}


def test_trainer_comment_with_empty_tags_overrides_the_category():
    text = '$CATEGORY: Safety\n\n// trainer: {"tags": []}\n::q::A?{T}'

    assert "tags" not in parse_one(text)


@pytest.mark.parametrize("comment, message", [
    ("// trainer: {not json", "trainer comment is not valid JSON"),
    ('// trainer: ["a"]', "trainer comment must be a JSON object"),
    ('// trainer: {"colour": "red"}', "unknown key 'colour' in trainer comment"),
])
def test_bad_trainer_comment_is_a_problem_at_its_line(comment, message):
    _, problems = parse_gift(f"A?{{T}}\n\n{comment}\nB?{{F}}", "q.gift")

    assert len(problems) == 1
    assert (problems[0].line, problems[0].message.startswith(message)) == (3, True)


# --- unsupported constructs --------------------------------------------------------------

def test_unsupported_constructs_are_problems_at_their_lines_and_the_rest_is_read():
    questions, problems = read_fixture("unsupported.gift")

    assert [(q.line, q.data["id"]) for q in questions] == [
        (2, "ok-first"), (4, "numeric"), (10, "missing-word"), (12, "ok-middle"), (14, "partial-single"),
        (19, "distractor"), (24, "short-feedback"), (26, "short-weight"), (28, "tf-two-feedbacks"), (34, "ok-last")]
    assert [(p.line, p.message) for p in problems] == [
        (6, "essay questions ({}) are not gradable here; not imported"),
        (8, "description questions (text without {answers}) are not gradable here; not imported"),
        (30, "'{' without a closing '}' (write \\{ for a literal brace; a blank line inside a "
             "question ends it)"),
        (32, "'}' without an opening '{' (write \\} for a literal brace)"),
    ]
    assert all(str(p).startswith(f"unsupported.gift:{p.line}: ") for p in problems)


@pytest.mark.parametrize("text, message", [
    ("::t Q?{T}", "the question title has no closing '::'"),
    ("Q?{=a {b} ~c}", "'{' inside the answers"),
    ("Q?{=a ~b} and {=c ~d}", "only one {answers} block is allowed per question"),
    ("Q?{text =a ~b}", "text before the first answer"),
    ("Q?{=a -> b =c}", "a matching answer has no '->'"),
    ("Q?{=a -> b#fb =c -> d}", "feedback (#) on matching pairs is not supported"),
    ("Q?{=a -> b =c -> }", "a matching pair has no right side"),
    ("Q?{= ~b}", "an answer has no text"),
])
def test_syntax_problems(text, message):
    questions, problems = parse_gift(text)

    assert questions == []
    assert [p.message.startswith(message) for p in problems] == [True]


def test_several_problems_in_one_question_are_all_reported():
    _, problems = parse_gift("Q?{\n=a\n~%150%b\n~%-125%c\n}")

    assert [p.line for p in problems] == [3, 4]


def test_problem_line_counts_comment_lines_inside_a_question():
    _, problems = parse_gift("Q?{\n// why\n=a\n~%150%b\n}")

    assert [p.line for p in problems] == [4]


# --- writing -----------------------------------------------------------------------------

def test_written_question_follows_moodles_layout():
    question = {"id": "safety-1", "type": "single", "stem": "Depth for 1:10 {ratio}?",
                "choices": [choice("0.5 mm", True, "Right #1"), choice("3 = too deep")],
                "explanation": "Shallow is safer.", "source": "FDA", "critical": True,
                "tags": ["safety"]}

    assert write_gift([question]).split("\n\n")[1:] == [
        "$CATEGORY: safety",
        '// trainer: {"source": "FDA", "critical": true}\n'
        "::safety-1::[markdown]Depth for 1\\:10 \\{ratio\\}?{\n"
        "\t=0.5 mm#Right \\#1\n"
        "\t~3 \\= too deep\n"
        "\t####Shallow is safer.\n"
        "}\n",
    ]


def test_multiple_gets_weights_that_score_right_minus_wrong_picks():
    question = {"id": "m", "type": "multiple", "stem": "Pick.", "scoring": "partial",
                "choices": [choice("a", True), choice("b", True), choice("c", True), choice("d")]}

    assert "\t~%33.33333%a\n\t~%33.33333%b\n\t~%33.33333%c\n\t~%-33.33333%d\n" in \
        write_gift([question])


def test_true_false_feedback_is_written_for_both_answers():
    question = {"id": "tf", "type": "true_false", "stem": "Safe?", "answer": False,
                "feedback": "Never.", "explanation": "Risk."}

    assert "::tf::[markdown]Safe?{FALSE#Never.#Never.####Risk.}" in write_gift([question])


def test_texts_that_look_like_a_format_or_weight_get_an_explicit_marker():
    question = {"id": "q", "type": "single", "stem": "[html] is literal",
                "choices": [choice("%50% of clients", True), choice("[plain] too")]}

    text = write_gift([question])

    assert "[markdown][html] is literal{" in text
    assert "\t=[markdown]%50% of clients\n\t~[markdown][plain] too\n" in text
    assert parse_one(text)["choices"][0]["text"] == "%50% of clients"


@pytest.mark.parametrize("question, reason", [
    ({"id": "o", "type": "ordering", "order": ["a", "b"]}, "ordering questions have no GIFT form"),
    ({"id": "m", "type": "matching", "pairs": [{"left": "a->b", "right": "c"}]},
     "GIFT cannot write '->' inside the left side of a matching pair"),
    ({"id": "s", "type": "short_answer", "answers": ["a->b"]},
     "GIFT would read a short answer (or its feedback) containing '->' as a matching pair"),
    ({"id": "x", "type": "essay"}, "unknown question type 'essay'"),
])
def test_questions_gift_cannot_express_are_named_before_and_when_writing(question, reason):
    assert gift_unsupported(question) == reason
    with pytest.raises(ValueError, match=f"question '{question['id']}'"):
        write_gift([{"id": "fine", "type": "true_false", "answer": True}, question])


def test_supported_question_has_no_reason():
    assert gift_unsupported({"id": "t", "type": "true_false", "answer": True}) is None


# --- round trip --------------------------------------------------------------------------

# Every GIFT control character, backslashes, newlines, arrows and markers in the texts.
ALPHABET = "ab Z09.,;'\"?!-_>%[]/~=#{}:\\\n\té€µ"
TRICKY_STARTS = ["[markdown]", "[html]", "%50%", "%-5%", "//", "::", "$CATEGORY: ", "####", "#",
                 "T", "->"]

plain_text = st.text(ALPHABET, min_size=1, max_size=25).map(str.strip).filter(bool)
texts = st.one_of(plain_text, st.builds(str.__add__, st.sampled_from(TRICKY_STARTS), plain_text))
no_arrow_texts = texts.filter(lambda t: "->" not in t)
ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)
tags = st.lists(st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
                          st.sampled_from(["top", "Safety Basics", "a/b", "$course$"])),
                max_size=3, unique=True)


def without_empty(**fields):
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != ""}


@st.composite
def choices(draw, correct_count):
    count = draw(st.integers(2, 6))
    right = set(draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True)))
    if correct_count == 1:
        right = {min(right)}
    return [without_empty(text=draw(texts), correct=i in right,
                          feedback=draw(st.none() | texts)) for i in range(count)]


def own_fields(kind):
    if kind == "single":
        return st.fixed_dictionaries({"choices": choices(1)})
    if kind == "multiple":
        return st.fixed_dictionaries({"choices": choices(None),
                                      "scoring": st.sampled_from(["partial", "all_or_nothing"])})
    if kind == "true_false":
        return st.fixed_dictionaries({"answer": st.booleans()},
                                     optional={"feedback": texts})
    if kind == "matching":
        pair = st.fixed_dictionaries({"left": no_arrow_texts, "right": texts})
        return st.fixed_dictionaries({"pairs": st.lists(pair, min_size=2, max_size=5)})
    return st.fixed_dictionaries({"answers": st.lists(no_arrow_texts, min_size=1, max_size=4)})


@st.composite
def gift_questions(draw):
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "matching", "short_answer"]))
    question = without_empty(
        id=draw(ids), type=kind, stem=draw(texts), explanation=draw(st.none() | texts),
        source=draw(st.none() | texts), tags=draw(tags),
        difficulty=draw(st.none() | st.integers(1, 3)), critical=draw(st.none() | st.booleans()),
        feedback=draw(st.none() | texts))
    question.update(draw(own_fields(kind)))
    return question


@settings(max_examples=300, deadline=None)
@given(st.lists(gift_questions(), min_size=1, max_size=4))
def test_round_trip_through_gift_keeps_every_question(questions):
    assert all(gift_unsupported(q) is None for q in questions)

    parsed, problems = parse_gift(write_gift(questions))

    assert problems == []
    assert [p.data for p in parsed] == questions


def test_round_trip_of_the_documented_examples_is_stable():
    questions, _ = read_fixture("documented_examples.gift")
    data = [q.data for q in questions]

    again, problems = parse_gift(write_gift(data))

    assert problems == []
    assert [q.data for q in again] == data


@settings(max_examples=500, deadline=None)
@given(st.text(ALPHABET + "\r$CATEGORY:TRUEF ", max_size=200))
def test_any_text_gives_questions_and_problems_never_an_exception(text):
    questions, problems = parse_gift(text, "q.gift")

    last_line = text.count("\n") + 1
    assert all(1 <= p.line <= last_line for p in problems)
    assert all(1 <= q.line <= last_line for q in questions)


# --- Moodle 4 marks, formats and files ------------------------------------------------------

def test_moodle_idnumber_is_the_id_and_moodle_tags_are_tags():
    questions, problems = parse_gift("$CATEGORY: $course$/top/Safety\n\n// [id:MN-07] [tag:depth] [tag:forehead]\n"
                                     "::Forehead depth::Which depth?{=0.25 mm ~2 mm}\n")

    assert problems == []
    assert (questions[0].data["id"], questions[0].data["tags"]) == ("mn-07", ["Safety", "depth", "forehead"])


def test_plain_text_is_kept_as_typed_not_read_as_markdown():
    question = parse_one("[plain]Use *two* passes_here <b>only</b>?{T}")

    assert question["stem"] == "Use \\*two\\* passes\\_here \\<b\\>only\\</b\\>?"


def test_a_pluginfile_image_gets_a_line_warning_and_the_question_is_kept():
    questions, problems = parse_gift("// a picture\n::pic::[html]Which tool? <img src\\=\"@@PLUGINFILE@@/pen.png\">"
                                     "{=Pen ~Roller}\n", "moodle.gift")

    assert [q.data["id"] for q in questions] == ["pic"]
    assert [(p.line, p.kind) for p in problems] == [(2, "warning")] and "@@PLUGINFILE@@" in problems[0].message


def test_a_missing_word_question_shows_the_blank_in_the_stem():
    question = parse_one("The skin heals {=slowly ~instantly} after deep needling.")

    assert question["stem"] == "The skin heals _____ after deep needling."
    assert question["type"] == "single" and question["choices"][0] == {"text": "slowly", "correct": True}


def test_plain_choices_are_kept_as_typed_since_choices_are_shown_as_plain_text():
    question = parse_one("Colour?{=yellow ~[plain]blue *sky*}")

    assert question["choices"][1]["text"] == "blue *sky*"


def test_a_short_answer_feedback_with_an_arrow_is_listed_not_misread_as_matching():
    # Found by the Hypothesis round trip: GIFT reads any '->' among '=' answers as a matching pair.
    question = {"id": "q", "type": "short_answer", "stem": "S", "answers": ["a", {"text": "b", "weight": 50,
                                                                                  "feedback": "see -> c"}]}

    assert gift_unsupported(question) == (
        "GIFT would read a short answer (or its feedback) containing '->' as a matching pair")
