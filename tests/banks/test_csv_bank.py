"""CSV import and export (trainer/banks/csv_bank.py)."""
import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.banks.csv_bank import CSV_HEADER, csv_unsupported, parse_csv, write_csv

FIXTURES = Path(__file__).parent / "fixtures"


def read_fixture(name):
    # Bytes, so the byte order mark and CRLF line ends reach the parser as Excel wrote them.
    return parse_csv((FIXTURES / name).read_bytes().decode("utf-8"), name)


def csv_text(*rows, header=CSV_HEADER):
    """A CSV file with `header` and rows given as {column: value}."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return buffer.getvalue()


def parse_rows(*rows):
    return parse_csv(csv_text(*rows), "bank.csv")


def choice(text, correct=False, feedback=None):
    made = {"text": text, "correct": correct}
    if feedback:
        made["feedback"] = feedback
    return made


# --- the header --------------------------------------------------------------------------

def test_header_has_every_documented_column_once():
    assert CSV_HEADER[:3] == ["id", "type", "stem"]
    assert len(CSV_HEADER) == len(set(CSV_HEADER)) == 35
    assert {"choice_8", "correct", "match_8", "feedback_8", "scoring", "explanation",
            "general_feedback", "source", "tags", "difficulty", "critical"} <= set(CSV_HEADER)


@pytest.mark.parametrize("text, detail", [
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    ("question,answer\nA?,yes\n", "missing id, type, stem; unknown 'question', 'answer'"),
    ("id,type,stem,choice_9\n", "unknown 'choice_9'"),
    ("id,type,stem,tags,Tags\n", "repeated tags"),
    ("depth-1,single,Which depth?\n", "missing id, type, stem"),
])
def test_wrong_or_missing_header_is_one_problem_at_line_1(text, detail):
    questions, problems = parse_csv(text, "bank.csv")

    assert questions == []
    assert len(problems) == 1
    assert problems[0].line == 1
    assert detail in problems[0].message


def test_header_names_are_trimmed_and_case_insensitive_in_any_order():
    text = " Stem ,TYPE,Id,correct\nSafe?,true_false,q1,true\n"

    questions, problems = parse_csv(text)

    assert problems == []
    assert questions[0].data == {"id": "q1", "type": "true_false", "stem": "Safe?", "answer": True}


# --- reading the fixtures ----------------------------------------------------------------

TRAINER_SHEET = [
    (2, {"id": "depth-cheeks", "type": "single",
         "stem": "Which depth suits fine lines on the cheeks?",
         "choices": [choice("0.5 mm", True, "Right, shallow."), choice("2.5 mm", False, "Too deep."),
                     choice("3.0 mm")],
         "explanation": "Shallow needling treats fine lines.", "tags": ["procedure", "depth"],
         "difficulty": 1, "critical": False}),
    (3, {"id": "infection-signs", "type": "multiple",
         "stem": "Which are signs of infection, after treatment?",
         "choices": [choice("Spreading warmth", True), choice("Pus", True),
                     choice("Mild redness on day one"), choice("Tightness")],
         "scoring": "partial", "explanation": "Warmth and pus mean infection.\nRefer the client.",
         "tags": ["safety"], "difficulty": 2, "critical": True}),
    (5, {"id": "cold-sore", "type": "true_false",
         "stem": 'Is it "safe" to treat over an active cold sore?', "answer": False,
         "explanation": "Treatment can spread the virus.", "tags": ["safety", "contraindications"],
         "critical": True}),
    (7, {"id": "storage", "type": "matching", "stem": "Match each product with its storage.",
         "pairs": [{"left": "Hyaluronic serum", "right": "Room temperature"},
                   {"left": "Numbing cream", "right": "-20 °C"},
                   {"left": "Needle cartridges", "right": "Dry, sealed pack"}],
         "explanation": "Check the labels.", "difficulty": 3}),
    (8, {"id": "steps", "type": "ordering", "stem": "Put the first steps in order.",
         "order": ["Consultation", "Cleanse", "Numbing cream", "Treatment"],
         "explanation": "Screening always comes first.", "tags": ["procedure"]}),
    (9, {"id": "pause-vitamin", "type": "short_answer",
         "stem": "Which vitamin A creams are paused before treatment?",
         "answers": ["retinol", "retinoids"], "explanation": "They thin the skin.",
         "difficulty": 2, "critical": False}),
]


def test_trainer_sheet_with_quoted_commas_newlines_and_a_blank_row():
    questions, problems = read_fixture("trainer_sheet.csv")

    assert problems == []
    assert [(q.line, q.data) for q in questions] == TRAINER_SHEET
    assert {q.path for q in questions} == {"trainer_sheet.csv"}


def test_excel_utf8_export_with_byte_order_mark_crlf_and_semicolons():
    questions, problems = read_fixture("excel_semicolons.csv")

    assert problems == []
    assert [(q.line, q.data) for q in questions] == [
        (2, {"id": "aftercare-sun", "type": "single",
             "stem": "Après le traitement, la crème solaire est…",
             "choices": [choice("obligatoire", True), choice("facultative; selon la météo")],
             "explanation": "Le soleil cause une hyperpigmentation.", "tags": ["aftercare"]}),
        (3, {"id": "gloves", "type": "true_false", "stem": 'Gloves are "optional" with a pen device.',
             "answer": False, "explanation": "Always wear nitrile gloves.\nChange them per client.",
             "critical": True, "difficulty": 1}),
    ]


def test_tab_separated_paste_from_a_spreadsheet():
    text = "id\ttype\tstem\tcorrect\nq1\ttrue_false\tSafe, really?\tfalse\n"

    questions, problems = parse_csv(text)

    assert problems == []
    assert questions[0].data["stem"] == "Safe, really?"


# --- row problems ------------------------------------------------------------------------

def test_problems_carry_the_rows_physical_line_after_multiline_cells():
    text = csv_text(
        {"id": "a", "type": "true_false", "stem": "Line one\nline two\nline three", "correct": "true"},
        {"id": "b", "type": "true_false", "stem": "Safe?", "correct": "maybe"},
    )

    questions, problems = parse_csv(text, "bank.csv")

    assert [q.data["id"] for q in questions] == ["a"]
    assert [str(p) for p in problems] == ["bank.csv:5: correct must be true or false (not 'maybe')"]


@pytest.mark.parametrize("row, message", [
    ({"id": "q", "type": "essay", "stem": "S"},
     "type must be one of single, multiple, true_false, matching, ordering, short_answer "
     "(not 'essay')"),
    ({"type": "true_false", "stem": "S", "correct": "true"},
     "id is empty; every question needs a stable id"),
    ({"id": "q", "type": "single", "stem": "S", "choice_1": "a", "choice_2": "b", "correct": "3"},
     'correct must list choice numbers 1..2 like "1;3" (not \'3\')'),
    ({"id": "q", "type": "single", "stem": "S", "choice_1": "a", "choice_3": "b", "correct": "1"},
     "choice_2 is empty but a later choice is filled"),
    ({"id": "q", "type": "single", "stem": "S", "choice_1": "a", "choice_2": "b", "correct": "1",
      "feedback_3": "why"}, "feedback_3 is filled but choice_3 is empty"),
    ({"id": "q", "type": "single", "stem": "S", "choice_1": "a", "choice_2": "b", "correct": "1",
      "scoring": "partial"}, "column scoring is not used by single questions; leave it empty"),
    ({"id": "q", "type": "ordering", "stem": "S", "choice_1": "a", "match_1": "b"},
     "column match_1 is not used by ordering questions; leave it empty"),
    ({"id": "q", "type": "matching", "stem": "S", "choice_1": "a", "choice_2": "b", "match_1": "x"},
     "each choice_N of a matching question needs its match_N, and no more"),
    ({"id": "q", "type": "true_false", "stem": "S", "correct": "true", "difficulty": "hard"},
     "difficulty must be a whole number 1..3 (not 'hard')"),
    ({"id": "q", "type": "true_false", "stem": "S", "correct": "true", "critical": "sometimes"},
     "critical must be true or false (not 'sometimes')"),
])
def test_row_problems_name_the_column(row, message):
    questions, problems = parse_rows(row)

    assert questions == []
    assert [(p.line, p.message) for p in problems] == [(2, message)]


def test_a_bad_row_does_not_stop_the_next_rows():
    questions, problems = parse_rows(
        {"id": "a", "type": "true_false", "stem": "S", "correct": "yes"},
        {"id": "b", "type": "quiz", "stem": "S"},
        {"id": "c", "type": "short_answer", "stem": "S", "choice_1": "x"},
    )

    assert [(q.line, q.data["id"]) for q in questions] == [(2, "a"), (4, "c")]
    assert [p.line for p in problems] == [3]


def test_row_with_more_cells_than_the_header():
    questions, problems = parse_csv("id,type,stem,correct\nq,true_false,S,true,extra\n")

    assert (questions, [(p.line, p.message) for p in problems]) == \
        ([], [(2, "the row has more cells than the header")])


def test_rows_shorter_than_the_header_read_missing_cells_as_empty():
    questions, problems = parse_csv(",".join(CSV_HEADER) + "\nq,ordering,S,a,b\n")

    assert problems == []
    assert questions[0].data == {"id": "q", "type": "ordering", "stem": "S", "order": ["a", "b"]}


def test_excel_number_formatting_of_difficulty_is_accepted():
    questions, _ = parse_rows({"id": "q", "type": "true_false", "stem": "S", "correct": "TRUE",
                               "difficulty": "2.0"})

    assert questions[0].data["difficulty"] == 2


def test_empty_scoring_on_multiple_is_left_for_the_validator():
    questions, problems = parse_rows({"id": "q", "type": "multiple", "stem": "S",
                                      "choice_1": "a", "choice_2": "b", "correct": "1, 2"})

    assert problems == []
    assert questions[0].data == {"id": "q", "type": "multiple", "stem": "S",
                                 "choices": [choice("a", True), choice("b", True)]}


# --- writing -----------------------------------------------------------------------------

def test_written_file_starts_with_a_byte_order_mark_and_the_header():
    text = write_csv([])

    assert text == "\ufeff" + ",".join(CSV_HEADER) + "\r\n"


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_written_as_text():
    question = {"id": "q", "type": "ordering", "stem": "=HYPERLINK(\"x\")",
                "order": ["+ve", "-20 °C", "@home", "'quoted"]}

    text = write_csv([question])
    row = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))

    assert [row["stem"], row["choice_1"], row["choice_2"], row["choice_3"], row["choice_4"]] == \
        ["'=HYPERLINK(\"x\")", "'+ve", "'-20 °C", "'@home", "''quoted"]
    assert parse_csv(text)[0][0].data == question


def test_a_trainer_typed_apostrophe_before_ordinary_text_is_kept():
    questions, _ = parse_rows({"id": "q", "type": "short_answer", "stem": "S", "choice_1": "'tis"})

    assert questions[0].data["answers"] == ["'tis"]


@pytest.mark.parametrize("question, reason", [
    ({"id": "q", "type": "essay"}, "unknown question type 'essay'"),
    ({"id": "q", "type": "ordering", "order": [str(n) for n in range(9)]},
     "more than 8 order do not fit the CSV columns"),
    ({"id": "q", "type": "true_false", "answer": True, "tags": ["a;b"]},
     "a tag that is empty or contains ';' cannot be written to the tags column"),
])
def test_questions_csv_cannot_hold_are_named(question, reason):
    assert csv_unsupported(question) == reason
    with pytest.raises(ValueError, match="question 'q'"):
        write_csv([question])


# --- round trip --------------------------------------------------------------------------

# Separators, quotes, formula starts, newlines and non-ASCII in the texts.
ALPHABET = "ab Z09.,;:'\"?!-+=@_%#\n\t\\éü€"
texts = st.text(ALPHABET, min_size=1, max_size=25).map(str.strip).filter(bool)
tags = st.lists(texts.filter(lambda t: ";" not in t), max_size=3)


def without_empty(**fields):
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != ""}


@st.composite
def choices(draw, correct_count):
    count = draw(st.integers(2, 8))
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
        return st.fixed_dictionaries({"answer": st.booleans()})
    if kind == "matching":
        pair = st.fixed_dictionaries({"left": texts, "right": texts})
        return st.fixed_dictionaries({"pairs": st.lists(pair, min_size=2, max_size=8)})
    key = "order" if kind == "ordering" else "answers"
    return st.fixed_dictionaries({key: st.lists(texts, min_size=1, max_size=8)})


@st.composite
def csv_questions(draw):
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "matching", "ordering",
                                 "short_answer"]))
    question = without_empty(
        id=draw(texts), type=kind, stem=draw(texts), explanation=draw(st.none() | texts),
        source=draw(st.none() | texts), tags=draw(tags),
        difficulty=draw(st.none() | st.integers(1, 3)), critical=draw(st.none() | st.booleans()),
        feedback=draw(st.none() | texts))
    question.update(draw(own_fields(kind)))
    return question


@settings(max_examples=300, deadline=None)
@given(st.lists(csv_questions(), max_size=4))
def test_round_trip_through_csv_keeps_every_question(questions):
    parsed, problems = parse_csv(write_csv(questions))

    assert problems == []
    assert [p.data for p in parsed] == questions


def test_round_trip_of_the_trainer_sheet_is_stable():
    questions, _ = read_fixture("trainer_sheet.csv")
    data = [q.data for q in questions]

    again, problems = parse_csv(write_csv(data))

    assert problems == []
    assert [q.data for q in again] == data


# --- never raises ------------------------------------------------------------------------

def test_quote_left_open_is_a_problem_at_the_row_where_it_opens_after_earlier_rows():
    text = "id,type,stem,correct\na,true_false,Safe?,true\nb,true_false,\"Open quote,false\n\n"

    questions, problems = parse_csv(text, "bank.csv")

    assert [q.data["id"] for q in questions] == ["a"]
    assert [str(p) for p in problems] == \
        ["bank.csv:3: not valid CSV from here on: unexpected end of data"]


def test_text_after_a_closing_quote_is_a_problem():
    _, problems = parse_csv('id,type,stem\nq,single,"Which"? depth\n')

    assert [(p.line, p.message) for p in problems] == \
        [(2, "not valid CSV from here on: ',' expected after '\"'")]


def test_a_stray_quote_inside_an_unquoted_cell_is_kept():
    questions, _ = parse_csv('id,type,stem,choice_1\nq,short_answer,Needle length?,5" needle\n')

    assert questions[0].data["answers"] == ['5" needle']


def test_a_huge_cell_is_a_problem_not_an_exception():
    _, problems = parse_csv("id,type,stem\nq,single," + "x" * 200_000 + "\n")

    assert [p.line for p in problems] == [2]


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET + '",\r', max_size=200))
def test_any_text_gives_questions_and_problems_never_an_exception(text):
    questions, problems = parse_csv(",".join(CSV_HEADER[:12]) + "\n" + text, "bank.csv")

    assert all(p.line >= 1 and p.path == "bank.csv" for p in problems)
    assert all(q.line >= 2 for q in questions)


def test_trailing_empty_columns_from_excel_are_ignored():
    text = "id,type,stem,correct,explanation,,,\nq,true_false,Sunscreen helps.,TRUE,UV harms healing skin.,,,\n"
    questions, problems = parse_csv(text, "sheet.csv")

    assert problems == []
    assert questions[0].data == {"id": "q", "type": "true_false", "stem": "Sunscreen helps.", "answer": True,
                                 "explanation": "UV harms healing skin."}


@pytest.mark.parametrize("cell, value", [("WAHR", True), ("FALSCH", False), ("VRAI", True), ("FAUX", False),
                                         ("VERDADERO", True), ("FALSO", False), ("Waar", True), ("onwaar", False)])
def test_spreadsheet_booleans_in_common_languages_are_read(cell, value):
    questions, problems = parse_rows({"id": "q", "type": "true_false", "stem": "S", "correct": cell})

    assert problems == [] and questions[0].data["answer"] is value


def test_an_unknown_boolean_gets_a_clear_message():
    _, problems = parse_rows({"id": "q", "type": "true_false", "stem": "S", "correct": "maybe"})

    assert [p.message for p in problems] == ["correct must be true or false (not 'maybe')"]


@pytest.mark.parametrize("question, reason", [
    ({"id": "n", "type": "numerical", "stem": "S", "answers": [{"value": 1}]},
     "numerical questions have no CSV columns"),
    ({"id": "w", "type": "single", "stem": "S", "choices": [{"text": "a", "correct": True},
                                                           {"text": "b", "weight": 50}]},
     "Moodle answer weights have no CSV column"),
    ({"id": "t", "type": "true_false", "stem": "S", "answer": True, "feedback_wrong": "No."},
     "separate feedback for right and wrong answers has no CSV column"),
])
def test_csv_names_the_moodle_constructs_it_cannot_hold(question, reason):
    assert csv_unsupported(question) == reason
