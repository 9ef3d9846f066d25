"""Round trips: any question trainer can hold in GIFT or Moodle XML reads back unchanged (Hypothesis),
and Moodle's own examples import, export and import again unchanged."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.banks.gift import gift_unsupported, parse_gift, write_gift
from trainer.banks.moodle_xml import parse_moodle_xml, parse_moodle_xml_with_media, write_moodle_xml
from trainer.quiz.types import normalise_question, validate_question

MOODLE = Path(__file__).resolve().parent.parent / "fixtures" / "moodle"

# Letters, digits, spaces inside, and the characters GIFT and XML must escape.
_ALPHABET = st.sampled_from(list("abcxyzAÉé019 ~=#{}:\\-<>&\"'%[]*_/→") + ["\n"])
TEXT = st.text(_ALPHABET, min_size=1, max_size=24).map(str.strip).filter(lambda t: t != "")
LINE = TEXT.map(lambda t: " ".join(t.split()))  # one-line texts (tags, matching sides)
IDS = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
WEIGHTS = st.sampled_from([-100, -50, -25, 10, 25, 33.33333, 50, 75])


def distinct(items, key=lambda x: " ".join(x.split()).casefold()):
    return len({key(i) for i in items}) == len(items)


@st.composite
def common(draw, kind: str) -> dict:
    question = {"id": draw(IDS), "type": kind, "stem": draw(TEXT), "explanation": draw(TEXT)}
    if draw(st.booleans()):
        question["source"] = draw(LINE)
    if draw(st.booleans()):
        question["tags"] = draw(st.lists(LINE, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        question["difficulty"] = draw(st.sampled_from([1, 2, 3]))
    if draw(st.booleans()):
        question["critical"] = True
    return question


@st.composite
def choice_questions(draw) -> dict:
    kind = draw(st.sampled_from(["single", "multiple"]))
    question = draw(common(kind))
    texts = draw(st.lists(LINE, min_size=2, max_size=5).filter(distinct))
    choices = [{"text": t} for t in texts]
    for choice in choices:
        if draw(st.booleans()):
            choice["feedback"] = draw(TEXT)
    if kind == "single":
        choices[draw(st.integers(0, len(choices) - 1))]["correct"] = True
        for choice in choices:
            if "correct" not in choice and draw(st.booleans()):
                choice["weight"] = draw(WEIGHTS)
    else:
        scoring = draw(st.sampled_from(["partial", "all_or_nothing", "weighted"]))
        question["scoring"] = scoring
        right = draw(st.integers(1, len(choices) - 1))
        for number, choice in enumerate(choices):
            choice["correct"] = number < right
            if scoring == "weighted":
                # A 0-weight wrong choice: never the +100/k, -100/k pattern that reads back as `partial`.
                choice["weight"] = round(100 / right, 5) if number < right else (0 if number == right else -50)
        if scoring == "weighted":
            total = sum(c["weight"] for c in choices if c["weight"] > 0)
            choices[0]["weight"] = round(choices[0]["weight"] + 100 - total, 5)
    question["choices"] = choices
    return question


@st.composite
def other_questions(draw) -> dict:
    kind = draw(st.sampled_from(["true_false", "matching", "short_answer", "numerical"]))
    question = draw(common(kind))
    if kind == "true_false":
        question["answer"] = draw(st.booleans())
        right, wrong = draw(st.one_of(st.none(), TEXT)), draw(st.one_of(st.none(), TEXT))
        if right is not None and right != wrong:
            question["feedback_right"] = right
        if wrong is not None and wrong != right:
            question["feedback_wrong"] = wrong
    elif kind == "matching":
        lefts = draw(st.lists(LINE.filter(lambda t: "->" not in t), min_size=2, max_size=4).filter(distinct))
        rights = draw(st.lists(LINE, min_size=len(lefts), max_size=len(lefts) + 2).filter(distinct))
        question["pairs"] = [{"left": a, "right": b} for a, b in zip(lefts, rights, strict=False)]
        if rights[len(lefts):]:
            question["distractors"] = rights[len(lefts):]
    elif kind == "short_answer":
        texts = draw(st.lists(LINE.filter(lambda t: "->" not in t), min_size=1, max_size=3).filter(distinct))
        answers = [texts[0]]
        for text in texts[1:]:
            answers.append({"text": text, "weight": draw(WEIGHTS), **({"feedback": draw(TEXT)}
                                                                     if draw(st.booleans()) else {})})
        question["answers"] = answers
    else:
        values = st.integers(-5000, 5000).map(lambda n: n / 100 if n % 100 else n // 100)
        answers = [{"value": draw(values)}]
        if draw(st.booleans()):
            answers[0]["tolerance"] = draw(st.integers(1, 300).map(lambda n: n / 100))
        if draw(st.booleans()):
            answers.append({"value": draw(values), "tolerance": 1, "weight": draw(WEIGHTS), "feedback": draw(TEXT)})
        question["answers"] = answers
        if draw(st.booleans()):
            question["unit"] = "mm"
    return question


QUESTIONS = st.one_of(choice_questions(), other_questions()).filter(lambda q: validate_question(q) == [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(QUESTIONS, min_size=1, max_size=4, unique_by=lambda q: q["id"]))
def test_gift_round_trip_keeps_every_question_gift_can_hold(questions):
    questions = [normalise_question(q) for q in questions if gift_unsupported(q) is None]
    again, problems = parse_gift(write_gift(questions))

    assert [p for p in problems if p.kind != "warning"] == []
    assert [normalise_question(q.data) for q in again] == questions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(QUESTIONS, min_size=1, max_size=4, unique_by=lambda q: q["id"]))
def test_moodle_xml_round_trip_keeps_every_question(questions):
    questions = [normalise_question(q) for q in questions]
    again, problems = parse_moodle_xml(write_moodle_xml(questions))

    assert problems == []
    assert [normalise_question(q.data) for q in again] == questions


def test_ordering_questions_travel_as_moodles_ordering_plugin():
    question = {"id": "steps", "type": "ordering", "stem": "Order the steps.", "explanation": "Consent first.",
                "order": ["Consent", "Cleanse", "Needle"]}
    text = write_moodle_xml([question])

    assert '<question type="ordering">' in text and "<gradingtype>ALL_OR_NOTHING</gradingtype>" in text
    assert [q.data for q in parse_moodle_xml(text)[0]] == [question]


@pytest.mark.parametrize("name",
                         ["gift/examples.txt", "gift/questions.gift.txt", "gift/questions_in_category.gift.txt"])
def test_moodles_gift_files_import_export_and_import_again_unchanged(name):
    first, _ = parse_gift((MOODLE / name).read_text(encoding="utf-8"))
    data = [q.data for q in first]
    # Moodle repeats untitled questions; ids are numbered on import (interchange), so keep the first of each here.
    unique = list({q["id"]: q for q in reversed(data)}.values())[::-1]
    again, problems = parse_gift(write_gift(unique))

    assert [p for p in problems if p.kind != "warning"] == []
    assert [q.data for q in again] == unique


@pytest.mark.parametrize("name", ["xml/documented_examples.xml", "xml/nested_categories_with_questions.xml"])
def test_moodle_xml_files_import_export_and_import_again_unchanged(name):
    first, _, media = parse_moodle_xml_with_media((MOODLE / name).read_text(encoding="utf-8"))
    data = [q.data for q in first]
    again, problems, media_again = parse_moodle_xml_with_media(write_moodle_xml(data, media))

    assert problems == []
    assert [q.data for q in again] == data and media_again == media


def test_a_hostile_xml_file_is_refused_without_expanding_entities():
    bomb = ('<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            "<quiz><question type=\"truefalse\"><name><text>&b;</text></name></question></quiz>")
    questions, problems = parse_moodle_xml(bomb, "bomb.xml")

    assert questions == [] and [str(p) for p in problems] == [
        "bomb.xml:1: the file declares a DTD or entities, which are refused for safety"]


def test_xml_that_is_not_well_formed_names_its_line():
    questions, problems = parse_moodle_xml("<quiz>\n<question type=\"truefalse\">\n</quiz>\n", "broken.xml")

    assert questions == [] and problems[0].line == 3 and "not well-formed XML" in problems[0].message


def test_the_shipped_course_travels_through_moodle_xml_and_gift_unchanged():
    from trainer.banks.course_folder import load_course

    def trimmed(value):
        # Both formats trim texts (YAML's block scalars end with a newline), as Moodle does.
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list):
            return [trimmed(v) for v in value]
        return {k: trimmed(v) for k, v in value.items()} if isinstance(value, dict) else value

    spec = load_course(Path(__file__).resolve().parent.parent.parent / "question_banks" / "microneedling")
    for module in spec.modules:
        questions = [trimmed(normalise_question(q.data)) for q in module.questions]
        xml_again, problems = parse_moodle_xml(write_moodle_xml(questions))
        assert problems == [] and [normalise_question(q.data) for q in xml_again] == questions
        giftable = [q for q in questions if gift_unsupported(q) is None]
        gift_again, problems = parse_gift(write_gift(giftable))
        assert problems == [] and [normalise_question(q.data) for q in gift_again] == giftable
        assert len(questions) - len(giftable) == sum(q["type"] == "ordering" for q in questions)


_GIFT_NOISE = st.lists(st.sampled_from(list("ab1 ~=#{}:\\->%.[]/$\n\t") + [
    "::", "####", "{#", "..", "TRUE", "[plain]", "@@PLUGINFILE@@/x.png", "$CATEGORY: a/b", "// [id:X]"]),
    max_size=80).map("".join)
_XML_PIECES = st.sampled_from(['<quiz>', '</quiz>', '<question type="multichoice">', '<question type="numerical">',
                               '<question type="truefalse">', '<question type="matching">', '</question>',
                               '<answer fraction="50">', '<answer fraction="x">', '</answer>', '<text>', '</text>',
                               '<tolerance>0.1</tolerance>', '<single>false</single>', '<subquestion>',
                               '</subquestion>', '<file name="a.png" encoding="base64">!!</file>', 'true', '1.5',
                               '<![CDATA[<p>x</p>]]>', '<!-- trainer: {"bad": 1} -->', '&amp;', '<', ' '])


@settings(max_examples=300, deadline=None)
@given(_GIFT_NOISE)
def test_any_gift_text_gives_questions_or_line_problems_never_an_exception(text):
    questions, problems = parse_gift(text, "noise.gift")

    assert all(p.line >= 1 for p in problems)
    assert all(isinstance(q.data, dict) for q in questions)
    _read_or_refuse(text, "gift")


@settings(max_examples=300, deadline=None)
@given(st.lists(_XML_PIECES, max_size=40).map("".join))
def test_any_xml_text_gives_questions_or_line_problems_never_an_exception(text):
    questions, problems = parse_moodle_xml(text, "noise.xml")

    assert all(p.line >= 1 for p in problems)
    _read_or_refuse(text, "moodlexml")


def _read_or_refuse(text: str, file_format: str) -> None:
    """The import's reading step either keeps valid questions or refuses the file with line problems."""
    from trainer.banks.records import BankFormatError
    from trainer.services.interchange import read_bank_file

    try:
        read = read_bank_file(text, "noise", file_format)
    except BankFormatError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)
        return
    assert all(validate_question(q.data) == [] for q in read.questions)


_XML_VALUES = st.sampled_from(["", "0", "100", "50", "-100", "x", "1.5", "true", "false", "*", "1..2", "<p>a</p>",
                               "@@PLUGINFILE@@/a.png", "1e400", "nan", "-0"])


@st.composite
def _xml_question(draw) -> str:
    kind = draw(st.sampled_from(["multichoice", "truefalse", "shortanswer", "numerical", "matching", "ordering",
                                 "essay", "category", "cloze", ""]))
    parts = [f'<question type="{kind}">']
    if draw(st.booleans()):
        parts.append(f"<name><text>{draw(st.sampled_from(['Q', '', 'Q Q', '&amp;']))}</text></name>")
    if draw(st.booleans()):
        parts.append(f'<questiontext format="{draw(st.sampled_from(["html", "plain_text", "markdown", ""]))}">'
                     f"<text><![CDATA[{draw(_XML_VALUES)}]]></text></questiontext>")
    for _ in range(draw(st.integers(0, 4))):
        child = draw(st.sampled_from(["answer", "subquestion", "single", "usecase", "units", "gradingtype",
                                      "idnumber", "tags", "category"]))
        if child == "answer":
            parts.append(f'<answer fraction="{draw(_XML_VALUES)}" format="{draw(st.sampled_from(["html", ""]))}">'
                         f"<text>{draw(_XML_VALUES)}</text><tolerance>{draw(_XML_VALUES)}</tolerance>"
                         f"<feedback><text>{draw(_XML_VALUES)}</text></feedback></answer>")
        elif child == "subquestion":
            parts.append(f"<subquestion><text>{draw(_XML_VALUES)}</text><answer><text>{draw(_XML_VALUES)}</text>"
                         "</answer></subquestion>")
        elif child == "units":
            parts.append(f"<units><unit><multiplier>{draw(_XML_VALUES)}</multiplier><unit_name>mm</unit_name>"
                         "</unit></units>")
        elif child == "tags":
            parts.append(f"<tags><tag><text>{draw(_XML_VALUES)}</text></tag></tags>")
        elif child == "category":
            parts.append(f"<category><text>{draw(_XML_VALUES)}</text></category>")
        else:
            parts.append(f"<{child}>{draw(_XML_VALUES)}</{child}>")
    parts.append("</question>")
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(st.lists(_xml_question(), max_size=4))
def test_any_well_formed_moodle_xml_gives_questions_or_line_problems_never_an_exception(questions):
    text = "<quiz>\n" + "\n".join(questions) + "\n</quiz>"
    parsed, problems = parse_moodle_xml(text, "noise.xml")

    assert all(p.line >= 1 for p in problems)
    _read_or_refuse(text, "moodlexml")
