"""The registry of question types.

Each type is one class that validates its bank entry, shuffles its options for display,
describes what the learner sees (never the key), reads a submitted form into a canonical
response, scores a response, and describes the review shown after submission.

Canonical responses (what AttemptQuestion.response stores), by type:
  single        int: index into `choices`
  multiple      sorted list of indices into `choices`
  true_false    bool
  matching      list, one entry per pair: index into `pairs` of the right side picked (or None)
  ordering      list of indices into `order`, in the order the learner put them
  short_answer  str
  numerical     float
Form values on the page are display positions, never bank indices, so the HTML cannot hint
at which option the author listed first.

A type also describes its own keys in the browser editor (`editor_template`, `editor_fields`,
`editor_values`, `from_editor`), in CSV (`csv_columns`, `from_csv`, `to_csv`, `csv_unsupported`), in GIFT
(`to_gift`, `gift_unsupported`) and in Moodle XML (`moodle_qtype`, `to_moodle_xml`, `from_moodle_xml`,
`moodle_xml_unsupported`), so the editor and trainer/banks/ dispatch to the type instead of naming types.
The formats keep their own escaping and XML: they hand the type a small writer (or reader) object.

Moodle's weights are kept and graded the way Moodle grades them (a `weight` is a percentage):
a `single` choice may carry a `weight` for partial credit (or a penalty) when picked; a
`multiple` question with `scoring: weighted` scores the sum of the picked choices' weights;
`short_answer` and `numerical` answers may carry a `weight`. Every score is floored at 0 and
capped at 1 (100%).
"""
from __future__ import annotations

import math
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

COMMON_KEYS = {"id", "type", "stem", "explanation", "source", "tags", "difficulty", "critical", "feedback"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class FieldProblem:
    """A problem with one field of a question (`field` is the key it concerns)."""

    field: str
    message: str


class InvalidResponse(ValueError):
    """The submitted form does not describe an answer to this question."""


def _nonempty_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_weight(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and -100 <= value <= 100)


def _clamp(credit: float) -> float:
    return min(1.0, max(0.0, credit))


def _normalise_answer(text: str) -> str:
    return " ".join(text.split()).casefold()


def _permutation(n: int, rng: random.Random) -> list[int]:
    order = list(range(n))
    rng.shuffle(order)
    return order


def _display_index(value: str | None, size: int) -> int:
    """Parse a form value that must be a display position 0..size-1."""
    if value is None or not value.isdigit() or int(value) >= size:
        raise InvalidResponse("That option is not part of this question.")
    return int(value)


@dataclass(frozen=True)
class EditorField:
    """One of a type's own keys as the browser editor shows it.

    kind "rows": a list of mappings, one table row each, with the `columns` named (those in `ticks` are
    tick boxes, the rest texts); "list": a list of texts, one row each; "text": one text (a select or radios).
    Rows and lists get at least `min_rows` rows, blank ones included.
    """

    key: str
    kind: str
    columns: tuple[str, ...] = ()
    ticks: frozenset[str] = frozenset()
    min_rows: int = 0
    #: For "text": the value a new question starts with.
    default: str = ""


class CsvCells(Protocol):
    """One CSV row as a type reads its own columns (trainer/banks/csv_bank.py implements it)."""

    #: How many numbered columns (choice_1 .. choice_N) there are.
    max_items: int

    def get(self, column: str) -> str: ...

    def items(self, column: str) -> list[str]:
        """The filled cells column_1, column_2 ... (a gap is a problem)."""

    def boolean(self, column: str) -> Any:
        """The cell as true or false (the cell itself, with a problem, when it is neither)."""

    def correct_numbers(self, count: int) -> set[int]:
        """The choice numbers 1..count listed in the `correct` cell."""

    def problem(self, message: str) -> None: ...


class GiftWriter(Protocol):
    """What a type writes its GIFT answers with (trainer/banks/gift.py implements it, for one question)."""

    def text(self, text: str) -> str:
        """A text escaped for GIFT (with a format marker where Moodle would misread its start)."""

    def escape(self, text: str) -> str:
        """A text escaped for GIFT, nothing more (the right side of a matching pair)."""

    def weight(self, value: float) -> str:
        """A weight as GIFT writes it between `%` signs."""

    def number(self, value: float) -> str:
        """A number exactly as it reads back."""

    def block(self, answer_lines: list[str], opening: str = "{") -> list[str]:
        """The question: its text, `opening`, one answer a line, the general feedback and `}`."""

    def inline(self, answers: str) -> list[str]:
        """The question on one line: its text, `{answers`, the general feedback and `}`."""


class MoodleXmlWriter(Protocol):
    """What a type writes its Moodle XML elements with (trainer/banks/moodle_xml.py implements it)."""

    def answer(self, fraction: float, text: str, feedback: str | None, extra: list[str] | None = None,
               plain: bool = False) -> list[str]:
        """An `<answer>` element (`extra`: more lines inside it; `plain`: a text that is not Markdown)."""

    def cdata(self, text: str) -> str:
        """A `<text>` element holding `text`."""

    def escape(self, text: str) -> str: ...

    def number(self, value: float) -> str: ...


class MoodleXmlSource(Protocol):
    """One `<question>` element as a type reads it (trainer/banks/moodle_xml.py implements it)."""

    def value(self, path: str, default: str = "") -> str:
        """The stripped text of the element at `path` inside the question, or `default`."""

    def nodes(self, path: str) -> list[Any]:
        """The elements at `path` inside the question."""

    def answers(self) -> list[tuple[Any, float | None, str, str]]:
        """(element, fraction, text, feedback) for each `<answer>`, texts as plain text."""

    def subquestions(self) -> list[tuple[str, str]]:
        """(text, answer text) for each `<subquestion>`."""

    def problem(self, message: str, at: Any = None, kind: str = "error") -> None:
        """Report a problem at the element `at` (the question when None)."""

    def number(self, value: float) -> int | float:
        """A read number without binary noise (whole numbers whole)."""

    def weight(self, fraction: float) -> int | float:
        """A Moodle fraction as our `weight`."""

    def partial_scoring(self, weights: list[float]) -> bool:
        """Whether Moodle's weights grade exactly like our `partial` scoring."""


def _editor_text(value: Any) -> str:
    return "" if value is None else str(value)


class QuestionType(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    #: Keys this type allows besides the common ones.
    own_keys: ClassVar[set[str]] = set()
    #: The template with this type's own editor fields; None: the editor keeps such a question, offering no fields.
    editor_template: ClassVar[str | None] = None
    editor_fields: ClassVar[tuple[EditorField, ...]] = ()
    #: CSV columns this type fills besides the common ones ("choice_N": choice_1..choice_8); None: no CSV columns.
    csv_columns: ClassVar[tuple[str, ...] | None] = None

    # --- the browser editor -----------------------------------------------------------
    def editor_values(self, q: Mapping) -> dict:
        """The editor's values for this type's own fields, from a stored question."""
        values: dict[str, Any] = {}
        for f in self.editor_fields:
            given = q.get(f.key)
            if f.kind == "rows":
                values[f.key] = [{c: row.get(c) is True if c in f.ticks else _editor_text(row.get(c))
                                  for c in f.columns} for row in given or [] if isinstance(row, Mapping)]
            elif f.kind == "list":
                values[f.key] = [_editor_text(item) for item in given or []]
            else:
                values[f.key] = _editor_text(given) or f.default
        return values

    def from_editor(self, values: Mapping) -> dict:
        """This type's own keys from the editor's values (blank rows already dropped; the checks say what is wrong)."""
        return {f.key: [dict(row) for row in values[f.key]] if f.kind == "rows"
                else list(values[f.key]) if f.kind == "list" else values[f.key] for f in self.editor_fields}

    def editor_notes(self, q: Mapping) -> list[str]:
        """Plain descriptions of what the question holds that the editor has no field for (kept on save)."""
        return []

    def keep_unedited(self, question: dict, opened: Mapping) -> dict:
        """Put back, from the version the editor opened (same type), what the editor has no field for:
        a save must never silently change how a question grades."""
        shown = {f.key for f in self.editor_fields}
        for key in sorted(self.own_keys - shown):
            if key in opened:
                question[key] = opened[key]
        return question

    # --- CSV ----------------------------------------------------------------------------
    def from_csv(self, cells: CsvCells) -> dict:
        """This type's own keys from its CSV columns."""
        return {}

    def to_csv(self, q: Mapping) -> dict[str, Any]:
        """This type's own CSV cells (column -> value)."""
        return {}

    def csv_unsupported(self, q: Mapping, max_items: int) -> str | None:
        """Why this question's own keys cannot be written to the CSV columns, or None."""
        return None

    # --- GIFT ---------------------------------------------------------------------------
    def gift_unsupported(self, q: Mapping) -> str | None:
        """Why this question cannot be written as GIFT (or would read back as another type), or None.

        GIFT tells types apart by the shape of their answers only, so a type without its own shape has no form."""
        return f"{self.name} questions have no GIFT form"

    def to_gift(self, q: Mapping, gift: GiftWriter) -> list[str]:
        """The question's GIFT lines from its text on (`gift.block` or `gift.inline`)."""
        raise ValueError(self.gift_unsupported(q))

    def feedback_in_answers(self, q: Mapping) -> bool:
        """Whether GIFT and Moodle XML carry the question's `feedback` in its answers (else the trainer comment)."""
        return False

    def trainer_comment(self, q: Mapping) -> dict:
        """Own keys neither GIFT nor Moodle XML can say, for their `trainer:` comment."""
        return {}

    # --- Moodle XML ---------------------------------------------------------------------
    #: Moodle's `<question type="...">` for this type; None: no Moodle XML form.
    #: Several of our types may share one: the first registered reads it (and decides which of them it is).
    moodle_qtype: ClassVar[str | None] = None

    def moodle_xml_unsupported(self, q: Mapping) -> str | None:
        """Why this question cannot be written as Moodle XML, or None."""
        return None if self.moodle_qtype else f"{self.name} questions have no Moodle XML form"

    def to_moodle_xml(self, q: Mapping, xml: MoodleXmlWriter) -> list[str]:
        """The elements after `<idnumber>`: this type's own settings and answers."""
        return []

    def from_moodle_xml(self, source: MoodleXmlSource) -> dict:
        """`type` and this type's own keys from a `<question type="{moodle_qtype}">`."""
        return {"type": self.name}

    # --- validation -------------------------------------------------------------------
    def validate(self, q: Mapping) -> list[FieldProblem]:
        problems = [FieldProblem(k, f"unknown key '{k}' for a {self.name} question")
                    for k in q if k not in COMMON_KEYS | self.own_keys]
        problems += self.validate_own(q)
        return problems

    def validate_own(self, q: Mapping) -> list[FieldProblem]:
        return []

    # --- attempt ----------------------------------------------------------------------
    def display_order(self, q: Mapping, rng: random.Random) -> Any:
        return []

    def view(self, q: Mapping, order: Any) -> dict:
        """What the page shows before submission: never a key, feedback or explanation."""
        return {}

    @abstractmethod
    def read_form(self, q: Mapping, order: Any, form, name: str) -> Any:
        """Turn form fields named `name` (or `name-N`) into a canonical response; None = unanswered."""

    def form_values(self, q: Mapping, order: Any, response: Any) -> dict:
        """The display-position values that re-check the page's inputs for a saved response."""
        return {}

    @abstractmethod
    def score(self, q: Mapping, response: Any) -> float:
        """Credit from 0 to 1 for a canonical response (None = unanswered)."""

    def review(self, q: Mapping, order: Any, response: Any) -> dict:
        """What the review shows after submission (the template decides what to reveal)."""
        return {}


# --- choice questions ---------------------------------------------------------------------

_CHOICE_CSV_COLUMNS = ("choice_N", "correct", "feedback_N")


class _ChoiceType(QuestionType):
    own_keys: ClassVar[set[str]] = {"choices"}
    editor_fields: ClassVar[tuple[EditorField, ...]] = (
        EditorField("choices", "rows", ("text", "correct", "feedback"), frozenset({"correct"}), min_rows=4),)
    csv_columns: ClassVar[tuple[str, ...] | None] = _CHOICE_CSV_COLUMNS

    def editor_notes(self, q):
        return [f"choice '{c['text']}' is worth {c['weight']:g}%" for c in q.get("choices") or []
                if isinstance(c, Mapping) and "weight" in c]

    def keep_unedited(self, question, opened):
        # Moodle's weights: kept for the choices whose text is unchanged (a correct single choice is worth 100%).
        weights = {c["text"]: c["weight"] for c in opened.get("choices") or [] if "weight" in c}
        for choice in question.get("choices") or []:
            if choice["text"] in weights and not (self.name == "single" and choice.get("correct")):
                choice["weight"] = weights[choice["text"]]
        return super().keep_unedited(question, opened)

    def from_csv(self, cells):
        texts = cells.items("choice")
        correct = cells.correct_numbers(len(texts))
        choices = []
        for number, text in enumerate(texts, start=1):
            choice = {"text": text, "correct": number in correct}
            if cells.get(f"feedback_{number}"):
                choice["feedback"] = cells.get(f"feedback_{number}")
            choices.append(choice)
        for number in range(len(texts) + 1, cells.max_items + 1):
            if cells.get(f"feedback_{number}"):
                cells.problem(f"feedback_{number} is filled but choice_{number} is empty")
        return {"choices": choices}

    def to_csv(self, q):
        choices = q.get("choices", [])
        row = {}
        for number, choice in enumerate(choices, start=1):
            row[f"choice_{number}"] = choice["text"]
            row[f"feedback_{number}"] = choice.get("feedback", "")
        row["correct"] = ";".join(str(n) for n, c in enumerate(choices, start=1) if c.get("correct"))
        return row

    def csv_unsupported(self, q, max_items):
        if any("weight" in c for c in q.get("choices", [])):
            return "Moodle answer weights have no CSV column"
        if len(q.get("choices", [])) > max_items:
            return f"more than {max_items} choices do not fit the CSV columns"
        return None

    moodle_qtype = "multichoice"

    def gift_unsupported(self, q):
        if not q.get("choices"):
            return "a choice question without choices has no GIFT form"
        return None

    def gift_mark(self, q: Mapping, choice: Mapping, gift: GiftWriter) -> str:
        """What starts a choice in GIFT: `=`, `~` or `~%weight%`."""
        raise NotImplementedError

    def to_gift(self, q, gift):
        lines = []
        for choice in q["choices"]:
            line = "\t" + self.gift_mark(q, choice, gift) + gift.text(choice["text"])
            if choice.get("feedback"):
                line += "#" + gift.text(choice["feedback"])
            lines.append(line)
        return gift.block(lines)

    def moodle_fraction(self, q: Mapping, choice: Mapping) -> float:
        """A choice's Moodle fraction when it carries no weight of its own."""
        raise NotImplementedError

    def to_moodle_xml(self, q, xml):
        lines = [f"    <single>{'true' if self.name == 'single' else 'false'}</single>",
                 "    <shuffleanswers>true</shuffleanswers>", "    <answernumbering>abc</answernumbering>"]
        for choice in q["choices"]:
            fraction = choice["weight"] if "weight" in choice else self.moodle_fraction(q, choice)
            lines += xml.answer(fraction, choice["text"], choice.get("feedback"))
        return lines

    def from_moodle_xml(self, source):
        # Moodle's multichoice is one of two types of ours: <single> says which.
        single = source.value("single", "true").lower() in ("true", "1")
        choices, weights = [], []
        for node, fraction, text, feedback in source.answers():
            fraction = fraction or 0.0
            if not text:
                source.problem("an answer has no text", node)
            choice = {"text": text, "correct": fraction >= 99.999 if single else fraction > 0}
            if single and not choice["correct"] and fraction:
                choice["weight"] = source.weight(fraction)
            if feedback:
                choice["feedback"] = feedback
            choices.append(choice)
            weights.append(fraction)
        if single:
            return {"type": "single", "choices": choices}
        if source.partial_scoring(weights):
            return {"type": "multiple", "choices": choices, "scoring": "partial"}
        for choice, weight in zip(choices, weights, strict=True):
            choice["weight"] = source.weight(weight)
        return {"type": "multiple", "choices": choices, "scoring": "weighted"}

    def validate_choices(self, q: Mapping) -> list[FieldProblem]:
        choices = q.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            return [FieldProblem("choices", f"a {self.name} question needs at least two choices")]
        problems, seen = [], set()
        for number, choice in enumerate(choices, start=1):
            if not isinstance(choice, Mapping):
                problems.append(FieldProblem("choices", f"choice {number} must be a mapping with 'text'"))
                continue
            for key in choice:
                if key not in ("text", "correct", "feedback", "weight"):
                    problems.append(FieldProblem("choices", f"choice {number}: unknown key '{key}'"))
            if not _nonempty_text(choice.get("text")):
                problems.append(FieldProblem("choices", f"choice {number} has no text"))
            elif _normalise_answer(choice["text"]) in seen:
                problems.append(FieldProblem("choices", f"choice {number} repeats the text of another choice"))
            else:
                seen.add(_normalise_answer(choice["text"]))
            if not isinstance(choice.get("correct", False), bool):
                problems.append(FieldProblem("choices", f"choice {number}: 'correct' must be true or false"))
            if "weight" in choice and not _is_weight(choice["weight"]):
                problems.append(FieldProblem("choices", f"choice {number}: 'weight' must be a percentage "
                                                        "from -100 to 100"))
        return problems

    def correct_indices(self, q: Mapping) -> set[int]:
        return {i for i, c in enumerate(q["choices"]) if c.get("correct") is True}

    def display_order(self, q, rng):
        return _permutation(len(q["choices"]), rng)

    def view(self, q, order):
        return {"options": [(pos, q["choices"][idx]["text"]) for pos, idx in enumerate(order)]}

    def review(self, q, order, response):
        picked = set(response if isinstance(response, list) else [] if response is None else [response])
        return {"options": [
            {"text": q["choices"][idx]["text"], "picked": idx in picked,
             "correct": bool(q["choices"][idx].get("correct")),
             "feedback": q["choices"][idx].get("feedback")}
            for idx in order
        ]}


class SingleChoice(_ChoiceType):
    name, label = "single", "Choose one answer"
    editor_template = "author/types/choices.html"

    def gift_unsupported(self, q):
        if not q.get("choices"):
            return super().gift_unsupported(q)
        if all(c.get("correct") for c in q["choices"]):
            return "a single-choice question needs a wrong choice to stay multiple choice in GIFT"
        return None

    def gift_mark(self, q, choice, gift):
        if "weight" in choice and not choice.get("correct"):
            return f"~%{gift.weight(choice['weight'])}%"  # Moodle's own weight, kept as it was
        return "=" if choice.get("correct") else "~"

    def moodle_fraction(self, q, choice):
        return 100 if choice.get("correct") else 0

    def validate_own(self, q):
        problems = self.validate_choices(q)
        if not problems and len(self.correct_indices(q)) != 1:
            problems.append(FieldProblem("choices", "a single question needs exactly one correct choice"))
        if not problems and any("weight" in c and c.get("correct") and c["weight"] != 100 for c in q["choices"]):
            problems.append(FieldProblem("choices", "the correct choice of a single question is worth 100%"))
        return problems

    def read_form(self, q, order, form, name):
        value = form.get(name)
        if value in (None, ""):
            return None
        return order[_display_index(value, len(order))]

    def form_values(self, q, order, response):
        return {} if response is None else {"checked": {order.index(response)}}

    def score(self, q, response):
        if response is None:
            return 0.0
        if response in self.correct_indices(q):
            return 1.0
        # Moodle: a wrong choice may carry partial credit (or a penalty, floored at zero).
        return _clamp(q["choices"][response].get("weight", 0) / 100)


class MultipleChoice(_ChoiceType):
    name, label = "multiple", "Select all that apply"
    own_keys: ClassVar[set[str]] = {"choices", "scoring"}
    editor_template = "author/types/choices.html"
    editor_fields = (*_ChoiceType.editor_fields, EditorField("scoring", "text", default="all_or_nothing"))
    csv_columns = (*_CHOICE_CSV_COLUMNS, "scoring")

    def from_csv(self, cells):
        question = super().from_csv(cells)
        if cells.get("scoring"):
            question["scoring"] = cells.get("scoring")
        return question

    def to_csv(self, q):
        return {**super().to_csv(q), **({"scoring": q["scoring"]} if "scoring" in q else {})}

    def csv_unsupported(self, q, max_items):
        if q.get("scoring") == "weighted":
            return "Moodle answer weights have no CSV column"
        return super().csv_unsupported(q, max_items)

    def gift_mark(self, q, choice, gift):
        if "weight" in choice:
            return f"~%{gift.weight(choice['weight'])}%"  # Moodle's own weight, kept as it was
        # Otherwise Moodle's weights that grade like our `partial` scoring: +100/k right, -100/k wrong.
        right = sum(1 for c in q["choices"] if c.get("correct"))
        share = 100 / right if right else 0
        return f"~%{gift.weight(share if choice.get('correct') else -share)}%"

    def moodle_fraction(self, q, choice):
        right = sum(1 for c in q["choices"] if c.get("correct")) or 1
        return 100 / right if choice.get("correct") else -100 / right

    def trainer_comment(self, q):
        # Moodle grades its multiple-answer question by weights, which is our `partial` scoring.
        return {"scoring": q["scoring"]} if q.get("scoring") == "all_or_nothing" else {}

    def validate_own(self, q):
        problems = self.validate_choices(q)
        if not problems and not self.correct_indices(q):
            problems.append(FieldProblem("choices", "a multiple question needs at least one correct choice"))
        if q.get("scoring") not in ("all_or_nothing", "partial", "weighted"):
            problems.append(FieldProblem("scoring", "scoring must be 'all_or_nothing', 'partial' or 'weighted'"))
        elif not problems and q["scoring"] == "weighted":
            problems += self._validate_weights(q["choices"])
        elif not problems and any("weight" in c for c in q["choices"]):
            problems.append(FieldProblem("choices", "choice weights need 'scoring: weighted'"))
        return problems

    @staticmethod
    def _validate_weights(choices) -> list[FieldProblem]:
        if not all("weight" in c for c in choices):
            return [FieldProblem("choices", "with 'scoring: weighted' every choice needs a 'weight'")]
        if any((c["weight"] > 0) != bool(c.get("correct")) for c in choices):
            return [FieldProblem("choices", "a choice is correct exactly when its weight is above 0")]
        total = sum(c["weight"] for c in choices if c["weight"] > 0)
        if abs(total - 100) > 0.01:
            # Moodle refuses such a question too: full marks must be reachable.
            return [FieldProblem("choices", f"the positive weights add up to {total:g}%, not 100%")]
        return []

    def read_form(self, q, order, form, name):
        values = [v for v in form.getlist(name) if v != ""]
        if not values:
            return None
        return sorted({order[_display_index(v, len(order))] for v in values})

    def form_values(self, q, order, response):
        return {} if not response else {"checked": {order.index(i) for i in response}}

    def score(self, q, response):
        picked, correct = set(response or []), self.correct_indices(q)
        if q.get("scoring") == "weighted":
            # Moodle's multiple-answer grading: the sum of the picked weights, floored at 0, capped at 100%.
            return _clamp(sum(q["choices"][i].get("weight", 0) for i in picked) / 100)
        if q.get("scoring") == "partial":
            # Right picks minus wrong picks, as a share of the right answers, floored at zero.
            return max(0.0, (len(picked & correct) - len(picked - correct)) / len(correct))
        return 1.0 if picked == correct else 0.0


class TrueFalse(QuestionType):
    name, label = "true_false", "True or false"
    #: feedback_right / feedback_wrong: Moodle's separate feedback for a right and a wrong answer.
    own_keys: ClassVar[set[str]] = {"answer", "feedback_right", "feedback_wrong"}
    editor_template = "author/types/true_false.html"
    editor_fields = (EditorField("answer", "text"),)
    csv_columns = ("correct",)

    def editor_values(self, q):
        return {"answer": {True: "true", False: "false"}.get(q.get("answer"), "")}

    def from_editor(self, values):
        return {"answer": {"true": True, "false": False}.get(values["answer"])}

    def editor_notes(self, q):
        labels = (("feedback_right", "feedback for a right answer"), ("feedback_wrong", "feedback for a wrong answer"))
        return [f"{label}: {q[key]}" for key, label in labels if q.get(key)]

    def from_csv(self, cells):
        return {"answer": cells.boolean("correct")}

    def to_csv(self, q):
        return {"correct": q.get("answer", "")}

    def csv_unsupported(self, q, max_items):
        if "feedback_right" in q or "feedback_wrong" in q:
            return "separate feedback for right and wrong answers has no CSV column"
        return None

    moodle_qtype = "truefalse"

    def gift_unsupported(self, q):
        return None if isinstance(q.get("answer"), bool) else "a true/false question needs answer true or false"

    def feedback_in_answers(self, q):
        return "feedback_right" not in q and "feedback_wrong" not in q

    def to_gift(self, q, gift):
        answers = "TRUE" if q["answer"] else "FALSE"
        if "feedback_right" in q or "feedback_wrong" in q:
            # Moodle's order: the feedback for a wrong answer first, then the one for a right answer.
            answers += f"#{gift.text(q.get('feedback_wrong', ''))}#{gift.text(q.get('feedback_right', ''))}"
        elif q.get("feedback"):
            feedback = gift.text(q["feedback"])
            answers += f"#{feedback}#{feedback}"
        return gift.inline(answers)

    def to_moodle_xml(self, q, xml):
        right_fb = q.get("feedback_right", q.get("feedback"))
        wrong_fb = q.get("feedback_wrong", q.get("feedback"))
        lines = []
        for value in (True, False):
            correct = q["answer"] is value
            lines += xml.answer(100 if correct else 0, "true" if value else "false", right_fb if correct else wrong_fb,
                                plain=True)
        return lines

    def from_moodle_xml(self, source):
        question: dict = {"type": "true_false"}
        feedback = {}
        for node, fraction, text, answer_feedback in source.answers():
            value = {"true": True, "false": False}.get(text.strip().lower())
            if value is None:
                source.problem(f"a true/false answer must be 'true' or 'false' (not {text!r})", node)
                continue
            if fraction == 100:
                question["answer"] = value
            if answer_feedback:
                feedback[value] = answer_feedback
        if "answer" not in question:
            source.problem("neither answer of the true/false question is worth 100%")
            return question
        question.update(self.feedback_fields(feedback.get(question["answer"]), feedback.get(not question["answer"])))
        return question

    @staticmethod
    def feedback_fields(right: str | None, wrong: str | None) -> dict[str, str]:
        """One `feedback` when both answers say the same, else what each says (imported banks give both)."""
        if right and right == wrong:
            return {"feedback": right}
        fields = {}
        if right:
            fields["feedback_right"] = right
        if wrong:
            fields["feedback_wrong"] = wrong
        return fields

    def validate_own(self, q):
        problems = []
        if not isinstance(q.get("answer"), bool):
            problems.append(FieldProblem("answer", "a true_false question needs 'answer: true' or 'answer: false'"))
        for key in ("feedback_right", "feedback_wrong"):
            if key in q and not _nonempty_text(q[key]):
                problems.append(FieldProblem(key, f"{key} must be text"))
        return problems

    def view(self, q, order):
        return {"options": [("true", "True"), ("false", "False")]}

    def read_form(self, q, order, form, name):
        value = form.get(name)
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise InvalidResponse("Answer true or false.")
        return value == "true"

    def form_values(self, q, order, response):
        return {} if response is None else {"checked": {"true" if response else "false"}}

    def score(self, q, response):
        return 1.0 if response is q["answer"] else 0.0

    def review(self, q, order, response):
        return {"options": [
            {"text": label, "picked": response is value, "correct": q["answer"] is value,
             "feedback": q.get("feedback_right" if q["answer"] is value else "feedback_wrong")}
            for label, value in (("True", True), ("False", False))
        ]}


class Matching(QuestionType):
    """Match each left item with a right side; `distractors` are extra right sides no item matches
    (Moodle's `= -> x`). Responses index the right sides: pairs first, then distractors."""

    name, label = "matching", "Match each item"
    own_keys: ClassVar[set[str]] = {"pairs", "distractors"}
    editor_template = "author/types/matching.html"
    editor_fields = (EditorField("pairs", "rows", ("left", "right"), min_rows=3),)
    csv_columns = ("choice_N", "match_N")

    def editor_notes(self, q):
        return [f"extra right side no item matches: '{d}'" for d in q.get("distractors") or []]

    def from_csv(self, cells):
        lefts, rights = cells.items("choice"), cells.items("match")
        if len(lefts) != len(rights):
            cells.problem("each choice_N of a matching question needs its match_N, and no more")
        return {"pairs": [{"left": left, "right": right} for left, right in zip(lefts, rights, strict=False)]}

    def to_csv(self, q):
        row = {}
        for number, pair in enumerate(q.get("pairs", []), start=1):
            row[f"choice_{number}"], row[f"match_{number}"] = pair["left"], pair["right"]
        return row

    def csv_unsupported(self, q, max_items):
        if q.get("distractors"):
            return "matching distractors have no CSV column"
        if len(q.get("pairs", [])) > max_items:
            return f"more than {max_items} pairs do not fit the CSV columns"
        return None

    moodle_qtype = "matching"

    def gift_unsupported(self, q):
        if not q.get("pairs"):
            return "a matching question without pairs has no GIFT form"
        if any("->" in pair.get("left", "") for pair in q["pairs"]):
            return "GIFT cannot write '->' inside the left side of a matching pair"
        return None

    def to_gift(self, q, gift):
        return gift.block([f"\t={gift.text(p['left'])} -> {gift.escape(p['right'])}" for p in q["pairs"]]
                          + [f"\t= -> {gift.escape(d)}" for d in q.get("distractors", [])])

    def to_moodle_xml(self, q, xml):
        lines = ["    <shuffleanswers>true</shuffleanswers>"]
        for pair in q["pairs"]:
            lines += ['    <subquestion format="markdown">', f"      {xml.cdata(pair['left'])}",
                      f"      <answer>{xml.cdata(pair['right'])}</answer>", "    </subquestion>"]
        for distractor in q.get("distractors", []):
            lines += ['    <subquestion format="markdown">', "      <text></text>",
                      f"      <answer>{xml.cdata(distractor)}</answer>", "    </subquestion>"]
        return lines

    def from_moodle_xml(self, source):
        return self.from_sides(source.subquestions())

    @staticmethod
    def from_sides(sides) -> dict:
        """A matching question from Moodle's (left, right) sides: a side without a left is an extra
        answer no item matches (a distractor)."""
        pairs, distractors = [], []
        for left, right in sides:
            if left:
                pairs.append({"left": left, "right": right})
            else:
                distractors.append(right)
        question: dict = {"type": "matching", "pairs": pairs}
        if distractors:
            question["distractors"] = distractors
        return question

    def validate_own(self, q):
        pairs = q.get("pairs")
        if not isinstance(pairs, list) or len(pairs) < 2:
            return [FieldProblem("pairs", "a matching question needs at least two pairs")]
        problems = []
        for number, pair in enumerate(pairs, start=1):
            if not isinstance(pair, Mapping) or set(pair) != {"left", "right"}:
                problems.append(FieldProblem("pairs", f"pair {number} needs exactly 'left' and 'right'"))
            elif not (_nonempty_text(pair["left"]) and _nonempty_text(pair["right"])):
                problems.append(FieldProblem("pairs", f"pair {number} has an empty side"))
        distractors = q.get("distractors", [])
        if not isinstance(distractors, list) or not all(_nonempty_text(d) for d in distractors):
            problems.append(FieldProblem("distractors", "distractors must be a list of texts"))
        if not problems:
            lefts = [_normalise_answer(p["left"]) for p in pairs]
            if len(set(lefts)) != len(lefts):
                problems.append(FieldProblem("pairs", "two pairs have the same left side"))
            rights = [_normalise_answer(r) for r in self.rights(q)]
            if len(set(rights)) != len(rights):
                problems.append(FieldProblem("pairs",
                                             "two pairs (or a pair and a distractor) have the same right side"))
        return problems

    @staticmethod
    def rights(q: Mapping) -> list[str]:
        return [p["right"] for p in q["pairs"]] + list(q.get("distractors", []))

    def display_order(self, q, rng):
        return {"left": _permutation(len(q["pairs"]), rng), "right": _permutation(len(self.rights(q)), rng)}

    def view(self, q, order):
        rights = self.rights(q)
        return {
            "lefts": [(pos, q["pairs"][idx]["left"]) for pos, idx in enumerate(order["left"])],
            "rights": [(pos, rights[idx]) for pos, idx in enumerate(order["right"])],
        }

    def read_form(self, q, order, form, name):
        n = len(q["pairs"])
        response: list[int | None] = [None] * n
        for pos, left_idx in enumerate(order["left"]):
            value = form.get(f"{name}-{pos}")
            if value not in (None, ""):
                response[left_idx] = order["right"][_display_index(value, len(order["right"]))]
        return None if all(r is None for r in response) else response

    def form_values(self, q, order, response):
        if not response:
            return {}
        return {"selected": {pos: order["right"].index(response[left_idx])
                             for pos, left_idx in enumerate(order["left"])
                             if response[left_idx] is not None}}

    def score(self, q, response):
        # Partial credit: the share of items matched correctly (as Moodle grades matching).
        if not response:
            return 0.0
        return sum(1 for i, r in enumerate(response) if r == i) / len(q["pairs"])

    def review(self, q, order, response):
        rights = self.rights(q)
        return {"rows": [
            {"left": q["pairs"][i]["left"], "right": q["pairs"][i]["right"],
             "picked": None if not response or response[i] is None else rights[response[i]],
             "correct": bool(response) and response[i] == i}
            for i in order["left"]
        ]}


class Ordering(QuestionType):
    name, label = "ordering", "Put in order"
    own_keys: ClassVar[set[str]] = {"order"}
    editor_template = "author/types/ordering.html"
    editor_fields = (EditorField("order", "list", min_rows=3),)
    csv_columns = ("choice_N",)

    def from_csv(self, cells):
        return {"order": cells.items("choice")}

    def to_csv(self, q):
        return {f"choice_{number}": item for number, item in enumerate(q.get("order", []), start=1)}

    def csv_unsupported(self, q, max_items):
        if len(q.get("order", [])) > max_items:
            return f"more than {max_items} order do not fit the CSV columns"
        return None

    # Moodle's qtype_ordering plugin, graded all or nothing like ours. GIFT has no ordering form.
    moodle_qtype = "ordering"

    def to_moodle_xml(self, q, xml):
        lines = ["    <layouttype>VERTICAL</layouttype>", "    <selecttype>ALL</selecttype>",
                 "    <selectcount>0</selectcount>", "    <gradingtype>ALL_OR_NOTHING</gradingtype>",
                 "    <showgrading>SHOW</showgrading>", "    <numberingstyle>none</numberingstyle>"]
        for number, item in enumerate(q["order"], start=1):
            lines += xml.answer(number, item, None)
        return lines

    def from_moodle_xml(self, source):
        grading = source.value("gradingtype", "ALL_OR_NOTHING").upper()
        select = source.value("selecttype", "ALL").upper()
        if grading not in ("ALL_OR_NOTHING", "-1") or select not in ("ALL", "0"):
            source.problem(f"ordering questions graded {grading.lower()} (or showing a subset) cannot be "
                           "graded the Moodle way here: only all-or-nothing")
        return {"type": "ordering", "order": [text for _, _, text, _ in source.answers()]}

    def validate_own(self, q):
        items = q.get("order")
        if not isinstance(items, list) or len(items) < 2:
            return [FieldProblem("order", "an ordering question needs at least two items")]
        if not all(_nonempty_text(i) for i in items):
            return [FieldProblem("order", "every item in 'order' must be non-empty text")]
        if len({_normalise_answer(i) for i in items}) != len(items):
            return [FieldProblem("order", "two items in 'order' are the same")]
        return []

    def display_order(self, q, rng):
        n = len(q["order"])
        order = _permutation(n, rng)
        while order == list(range(n)):  # never show the answer as the starting order
            order = _permutation(n, rng)
        return order

    def view(self, q, order):
        return {"items": [(pos, q["order"][idx]) for pos, idx in enumerate(order)],
                "ranks": list(range(1, len(order) + 1))}

    def read_form(self, q, order, form, name):
        n = len(order)
        ranks = {}
        for pos, idx in enumerate(order):
            value = form.get(f"{name}-{pos}")
            if value in (None, ""):
                continue
            if not value.isdigit() or not 1 <= int(value) <= n:
                raise InvalidResponse("Each position must be a number from the list.")
            ranks[idx] = int(value)
        if not ranks:
            return None
        if len(ranks) != n or len(set(ranks.values())) != n:
            raise InvalidResponse("Give every item a different position.")
        return sorted(ranks, key=ranks.get)

    def form_values(self, q, order, response):
        if not response:
            return {}
        return {"selected": {pos: response.index(idx) + 1 for pos, idx in enumerate(order)}}

    def score(self, q, response):
        # The whole sequence must be right: in a clinical procedure a half-right order is wrong.
        return 1.0 if response == list(range(len(q["order"]))) else 0.0

    def review(self, q, order, response):
        return {"correct_order": list(q["order"]),
                "given_order": [q["order"][i] for i in response] if response else []}


def _answer_entries(answers) -> list[dict]:
    """Short answers as mappings: a plain string is an answer worth 100%."""
    return [{"text": a, "weight": 100} if isinstance(a, str) else {"weight": 100, **a} for a in answers]


def _matches(pattern: str, response: str) -> bool:
    """Moodle's short-answer match: case- and space-insensitive; `*` stands for any text."""
    pattern, response = _normalise_answer(pattern), _normalise_answer(response)
    if "*" not in pattern:
        return pattern == response
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), response, re.S) is not None


class ShortAnswer(QuestionType):
    name, label = "short_answer", "Type the answer"
    own_keys: ClassVar[set[str]] = {"answers"}
    editor_template = "author/types/short_answer.html"
    editor_fields = (EditorField("answers", "list", min_rows=2),)
    csv_columns = ("choice_N",)

    def editor_values(self, q):
        return {"answers": [_editor_text(a.get("text")) if isinstance(a, Mapping) else _editor_text(a)
                            for a in q.get("answers") or []]}

    def editor_notes(self, q):
        return [f"answer '{a['text']}' is worth {a.get('weight', 100):g}%"
                + (f" with feedback '{a['feedback']}'" if a.get("feedback") else "")
                for a in q.get("answers") or [] if isinstance(a, Mapping)]

    def keep_unedited(self, question, opened):
        # Weighted answers and their feedback: kept for the answers whose text is unchanged.
        kept = {a["text"]: a for a in opened.get("answers") or [] if isinstance(a, Mapping)}
        question["answers"] = [dict(kept[a]) if a in kept else a for a in question.get("answers") or []]
        return super().keep_unedited(question, opened)

    def from_csv(self, cells):
        return {"answers": cells.items("choice")}

    def to_csv(self, q):
        return {f"choice_{number}": item for number, item in enumerate(q.get("answers", []), start=1)}

    def csv_unsupported(self, q, max_items):
        if any(not isinstance(a, str) for a in q.get("answers", [])):
            return "weighted short answers and per-answer feedback have no CSV column"
        if len(q.get("answers", [])) > max_items:
            return f"more than {max_items} answers do not fit the CSV columns"
        return None

    moodle_qtype = "shortanswer"

    def gift_unsupported(self, q):
        if not q.get("answers"):
            return "a short-answer question without answers has no GIFT form"
        if any("->" in a.get("text", "") or "->" in a.get("feedback", "") for a in _answer_entries(q["answers"])):
            return "GIFT would read a short answer (or its feedback) containing '->' as a matching pair"
        return None

    def to_gift(self, q, gift):
        lines = []
        for answer in q["answers"]:
            if isinstance(answer, str):
                lines.append(f"\t={gift.text(answer)}")
                continue
            weight = answer.get("weight", 100)
            line = "\t=" + ("" if weight == 100 else f"%{gift.weight(weight)}%") + gift.text(answer["text"])
            if answer.get("feedback"):
                line += "#" + gift.text(answer["feedback"])
            lines.append(line)
        return gift.block(lines)

    def to_moodle_xml(self, q, xml):
        lines = ["    <usecase>0</usecase>"]
        for answer in _answer_entries(q["answers"]):
            lines += xml.answer(answer["weight"], answer["text"], answer.get("feedback"), plain=True)
        return lines

    def from_moodle_xml(self, source):
        if source.value("usecase", "0") == "1":
            source.problem("case-sensitive short answers (usecase 1) cannot be graded the Moodle way here: "
                           "answers are compared without case")
        answers: list[str | dict] = []
        for node, fraction, text, feedback in source.answers():
            if not text:
                source.problem("an answer has no text", node)
            fraction = 0.0 if fraction is None else fraction
            if fraction == 100 and not feedback:
                answers.append(text)
                continue
            answer = {"text": text, "weight": source.weight(fraction)}
            if feedback:
                answer["feedback"] = feedback
            answers.append(answer)
        return {"type": "short_answer", "answers": answers}

    def validate_own(self, q):
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers:
            return [FieldProblem("answers", "a short_answer question needs a list of accepted answers")]
        problems = []
        for number, answer in enumerate(answers, start=1):
            if isinstance(answer, str):
                if not answer.strip():
                    problems.append(FieldProblem("answers", f"answer {number} is empty"))
                continue
            if not isinstance(answer, Mapping) or not _nonempty_text(answer.get("text")):
                problems.append(FieldProblem("answers", f"answer {number} needs 'text'"))
                continue
            for key in answer:
                if key not in ("text", "weight", "feedback"):
                    problems.append(FieldProblem("answers", f"answer {number}: unknown key '{key}'"))
            if "weight" in answer and not _is_weight(answer["weight"]):
                problems.append(FieldProblem("answers", f"answer {number}: 'weight' must be a percentage "
                                                        "from -100 to 100"))
            if "feedback" in answer and not _nonempty_text(answer["feedback"]):
                problems.append(FieldProblem("answers", f"answer {number}: feedback must be text"))
        if not problems and not any(a["weight"] == 100 for a in _answer_entries(answers)):
            problems.append(FieldProblem("answers", "one answer must be worth 100%"))
        return problems

    def read_form(self, q, order, form, name):
        value = (form.get(name) or "").strip()
        if len(value) > 500:
            raise InvalidResponse("Keep the answer under 500 characters.")
        return value or None

    def form_values(self, q, order, response):
        return {"text": response or ""}

    def matching_answer(self, q, response) -> dict | None:
        """The first listed answer the response matches (Moodle takes the first match), or None."""
        if not response:
            return None
        return next((a for a in _answer_entries(q["answers"]) if _matches(a["text"], response)), None)

    def score(self, q, response):
        answer = self.matching_answer(q, response)
        return 0.0 if answer is None else _clamp(answer["weight"] / 100)

    def review(self, q, order, response):
        answer = self.matching_answer(q, response)
        return {"given": response or "", "feedback": answer.get("feedback") if answer else None,
                "accepted": [a["text"] for a in _answer_entries(q["answers"]) if a["weight"] == 100]}


def parse_number(text: str) -> float | None:
    """A number as people type it: `1.5`, `1,5`, ` 2 `; None when it is not one."""
    text = text.strip().replace(",", ".")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Numerical(QuestionType):
    """A number within a tolerance (depths in millimetres, timings): Moodle's numerical question."""

    name, label = "numerical", "Give the number"
    own_keys: ClassVar[set[str]] = {"answers", "unit"}

    def validate_own(self, q):
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers:
            return [FieldProblem("answers", "a numerical question needs a list of answers, each with a 'value'")]
        problems = []
        for number, answer in enumerate(answers, start=1):
            if not isinstance(answer, Mapping) or not _is_number(answer.get("value")):
                problems.append(FieldProblem("answers", f"answer {number} needs a numeric 'value'"))
                continue
            for key in answer:
                if key not in ("value", "tolerance", "weight", "feedback"):
                    problems.append(FieldProblem("answers", f"answer {number}: unknown key '{key}'"))
            if "tolerance" in answer and not (_is_number(answer["tolerance"]) and answer["tolerance"] >= 0):
                problems.append(FieldProblem("answers", f"answer {number}: 'tolerance' must be a number of 0 or more"))
            if "weight" in answer and not _is_weight(answer["weight"]):
                problems.append(FieldProblem("answers", f"answer {number}: 'weight' must be a percentage "
                                                        "from -100 to 100"))
            if "feedback" in answer and not _nonempty_text(answer["feedback"]):
                problems.append(FieldProblem("answers", f"answer {number}: feedback must be text"))
        if not problems and not any(a.get("weight", 100) == 100 for a in answers):
            problems.append(FieldProblem("answers", "one answer must be worth 100%"))
        if "unit" in q and not _nonempty_text(q["unit"]):
            problems.append(FieldProblem("unit", "unit must be text, such as mm"))
        return problems

    def editor_notes(self, q):
        notes = [f"answer {a['value']:g}" + (f" ± {a['tolerance']:g}" if a.get("tolerance") else "")
                 + f" is worth {a.get('weight', 100):g}%" for a in q.get("answers") or []]
        return notes + ([f"unit: {q['unit']}"] if q.get("unit") else [])

    moodle_qtype = "numerical"

    def gift_unsupported(self, q):
        return None if q.get("answers") else "a numerical question without answers has no GIFT form"

    def to_gift(self, q, gift):
        lines = []
        for answer in q["answers"]:
            weight = answer.get("weight", 100)
            text = ("" if weight == 100 else f"%{gift.weight(weight)}%") + gift.number(answer["value"])
            if answer.get("tolerance"):
                text += f":{gift.number(answer['tolerance'])}"
            if answer.get("feedback"):
                text += "#" + gift.text(answer["feedback"])
            lines.append(f"\t={text}")
        return gift.block(lines, opening="{#")

    def to_moodle_xml(self, q, xml):
        lines = []
        for answer in q["answers"]:
            lines += xml.answer(answer.get("weight", 100), xml.number(answer["value"]), answer.get("feedback"),
                                [f"<tolerance>{xml.number(answer.get('tolerance', 0))}</tolerance>"], plain=True)
        if q.get("unit"):
            lines += ["    <units>", "      <unit>", "        <multiplier>1</multiplier>",
                      f"        <unit_name>{xml.escape(q['unit'])}</unit_name>", "      </unit>", "    </units>",
                      "    <unitgradingtype>0</unitgradingtype>", "    <unitpenalty>0</unitpenalty>",
                      "    <showunits>3</showunits>", "    <unitsleft>0</unitsleft>"]
        return lines

    def from_moodle_xml(self, source):
        answers = []
        for node, fraction, text, feedback in source.answers():
            if text.strip() == "*":
                if fraction:
                    source.problem("credit for any number (*) cannot be graded here", node)
                elif feedback:
                    source.problem("the feedback for any other number (*) is not kept", node, "warning")
                continue
            value = parse_number(text)
            tolerance = parse_number(node.findtext("tolerance") or "0")
            if value is None or tolerance is None or tolerance < 0:
                source.problem(f"'{text}' is not a number with a tolerance", node)
                continue
            answer: dict[str, Any] = {"value": source.number(value)}
            if tolerance:
                answer["tolerance"] = source.number(tolerance)
            if fraction not in (None, 100):
                answer["weight"] = source.weight(fraction)
            if feedback:
                answer["feedback"] = feedback
            answers.append(answer)
        question: dict[str, Any] = {"type": "numerical", "answers": answers}
        units = source.nodes("units/unit")
        if units:
            base = [u for u in units if parse_number(u.findtext("multiplier") or "1") == 1]
            if len(units) > 1 or not base:
                source.problem("several units with multipliers cannot be graded here; keep one unit")
            elif (name := (base[0].findtext("unit_name") or "").strip()):
                question["unit"] = name
        return question

    def view(self, q, order):
        return {"unit": q.get("unit")}

    def read_form(self, q, order, form, name):
        raw = (form.get(name) or "").strip()
        if not raw:
            return None
        unit = q.get("unit")
        if unit and raw.casefold().endswith(unit.casefold()):
            raw = raw[:-len(unit)]
        value = parse_number(raw)
        if value is None:
            raise InvalidResponse("Type a number, such as 1.5.")
        return value

    def form_values(self, q, order, response):
        return {"text": "" if response is None else f"{response:g}"}

    def matching_answer(self, q, response) -> dict | None:
        """The first answer whose range holds the response (Moodle takes the first match), or None."""
        if not _is_number(response):
            return None
        # A little slack for binary fractions: 1.1 is within 0.1 of 1.2.
        return next((a for a in q["answers"]
                     if abs(response - a["value"]) <= a.get("tolerance", 0) + 1e-9 * max(1.0, abs(a["value"]))), None)

    def score(self, q, response):
        answer = self.matching_answer(q, response)
        return 0.0 if answer is None else _clamp(answer.get("weight", 100) / 100)

    def review(self, q, order, response):
        answer = self.matching_answer(q, response)
        unit = f" {q['unit']}" if q.get("unit") else ""
        accepted = [f"{a['value']:g}{unit}" + (f" ± {a['tolerance']:g}" if a.get("tolerance") else "")
                    for a in q["answers"] if a.get("weight", 100) == 100]
        return {"given": "" if response is None else f"{response:g}{unit}",
                "feedback": answer.get("feedback") if answer else None, "accepted": accepted}


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleChoice(), TrueFalse(), Matching(), Ordering(), ShortAnswer(),
                        Numerical())
}


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]


def validate_question(q: Any) -> list[FieldProblem]:
    """Check that one question dict can be stored and graded: the common rules and its type's own rules."""
    if not isinstance(q, Mapping):
        return [FieldProblem("id", "each question must be a mapping of keys to values")]
    problems = []
    qid = q.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        problems.append(FieldProblem("id", "id must be lower-case letters, digits, '-', '_' or '.'"))
    # A missing explanation is a publishing rule (trainer/banks/publish_rules.py), not a structural one:
    # an imported question without one can still be kept as a draft.
    if not _nonempty_text(q.get("stem")):
        problems.append(FieldProblem("stem", "missing stem"))
    if q.get("explanation") is not None and not isinstance(q["explanation"], str):
        problems.append(FieldProblem("explanation", "explanation must be text"))
    if "tags" in q and not (isinstance(q["tags"], list) and all(_nonempty_text(t) for t in q["tags"])):
        problems.append(FieldProblem("tags", "tags must be a list of words"))
    if "difficulty" in q and q["difficulty"] not in (1, 2, 3):
        problems.append(FieldProblem("difficulty", "difficulty must be 1, 2 or 3"))
    if "critical" in q and not isinstance(q["critical"], bool):
        problems.append(FieldProblem("critical", "critical must be true or false"))
    for key in ("source", "feedback"):
        if key in q and not _nonempty_text(q[key]):
            problems.append(FieldProblem(key, f"{key} must be text"))
    kind = q.get("type")
    if not isinstance(kind, str) or kind not in QUESTION_TYPES:
        problems.append(FieldProblem("type", f"unknown type {kind!r}; use one of: {', '.join(QUESTION_TYPES)}"))
        return problems
    return problems + QUESTION_TYPES[kind].validate(q)


def normalise_question(q: Mapping) -> dict:
    """The canonical form of a valid question: defaults left out, so equal questions compare equal
    whichever reader produced them (`correct: false`, `critical: false`, empty tags are the defaults)."""
    data = {k: v for k, v in q.items() if v is not None and v != [] and v != ""}
    if data.get("critical") is False:
        del data["critical"]
    if "choices" in data:
        data["choices"] = [{k: v for k, v in c.items() if not (k == "correct" and v is False) and v not in (None, "")}
                           for c in data["choices"]]
    return data
