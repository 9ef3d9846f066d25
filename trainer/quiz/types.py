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
Form values on the page are display positions, never bank indices, so the HTML cannot hint
at which option the author listed first.
"""
from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

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


class QuestionType(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    #: Keys this type allows besides the common ones.
    own_keys: ClassVar[set[str]] = set()

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

class _ChoiceType(QuestionType):
    own_keys: ClassVar[set[str]] = {"choices"}

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
                if key not in ("text", "correct", "feedback"):
                    problems.append(FieldProblem("choices", f"choice {number}: unknown key '{key}'"))
            if not _nonempty_text(choice.get("text")):
                problems.append(FieldProblem("choices", f"choice {number} has no text"))
            elif _normalise_answer(choice["text"]) in seen:
                problems.append(FieldProblem("choices", f"choice {number} repeats the text of another choice"))
            else:
                seen.add(_normalise_answer(choice["text"]))
            if not isinstance(choice.get("correct", False), bool):
                problems.append(FieldProblem("choices", f"choice {number}: 'correct' must be true or false"))
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

    def validate_own(self, q):
        problems = self.validate_choices(q)
        if not problems and len(self.correct_indices(q)) != 1:
            problems.append(FieldProblem("choices", "a single question needs exactly one correct choice"))
        return problems

    def read_form(self, q, order, form, name):
        value = form.get(name)
        if value in (None, ""):
            return None
        return order[_display_index(value, len(order))]

    def form_values(self, q, order, response):
        return {} if response is None else {"checked": {order.index(response)}}

    def score(self, q, response):
        return 1.0 if response is not None and response in self.correct_indices(q) else 0.0


class MultipleChoice(_ChoiceType):
    name, label = "multiple", "Select all that apply"
    own_keys: ClassVar[set[str]] = {"choices", "scoring"}

    def validate_own(self, q):
        problems = self.validate_choices(q)
        if not problems and not self.correct_indices(q):
            problems.append(FieldProblem("choices", "a multiple question needs at least one correct choice"))
        if q.get("scoring") not in ("all_or_nothing", "partial"):
            problems.append(FieldProblem("scoring", "scoring must be 'all_or_nothing' or 'partial'"))
        return problems

    def read_form(self, q, order, form, name):
        values = [v for v in form.getlist(name) if v != ""]
        if not values:
            return None
        return sorted({order[_display_index(v, len(order))] for v in values})

    def form_values(self, q, order, response):
        return {} if not response else {"checked": {order.index(i) for i in response}}

    def score(self, q, response):
        picked, correct = set(response or []), self.correct_indices(q)
        if q.get("scoring") == "partial":
            # Right picks minus wrong picks, as a share of the right answers, floored at zero.
            return max(0.0, (len(picked & correct) - len(picked - correct)) / len(correct))
        return 1.0 if picked == correct else 0.0


class TrueFalse(QuestionType):
    name, label = "true_false", "True or false"
    own_keys: ClassVar[set[str]] = {"answer"}

    def validate_own(self, q):
        if not isinstance(q.get("answer"), bool):
            return [FieldProblem("answer", "a true_false question needs 'answer: true' or 'answer: false'")]
        return []

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
            {"text": label, "picked": response is value, "correct": q["answer"] is value, "feedback": None}
            for label, value in (("True", True), ("False", False))
        ]}


class Matching(QuestionType):
    name, label = "matching", "Match each item"
    own_keys: ClassVar[set[str]] = {"pairs"}

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
        if not problems:
            for side in ("left", "right"):
                texts = [_normalise_answer(p[side]) for p in pairs]
                if len(set(texts)) != len(texts):
                    problems.append(FieldProblem("pairs", f"two pairs have the same {side} side"))
        return problems

    def display_order(self, q, rng):
        n = len(q["pairs"])
        return {"left": _permutation(n, rng), "right": _permutation(n, rng)}

    def view(self, q, order):
        return {
            "lefts": [(pos, q["pairs"][idx]["left"]) for pos, idx in enumerate(order["left"])],
            "rights": [(pos, q["pairs"][idx]["right"]) for pos, idx in enumerate(order["right"])],
        }

    def read_form(self, q, order, form, name):
        n = len(q["pairs"])
        response: list[int | None] = [None] * n
        for pos, left_idx in enumerate(order["left"]):
            value = form.get(f"{name}-{pos}")
            if value not in (None, ""):
                response[left_idx] = order["right"][_display_index(value, n)]
        return None if all(r is None for r in response) else response

    def form_values(self, q, order, response):
        if not response:
            return {}
        return {"selected": {pos: order["right"].index(response[left_idx])
                             for pos, left_idx in enumerate(order["left"])
                             if response[left_idx] is not None}}

    def score(self, q, response):
        # Partial credit: the share of items matched correctly.
        if not response:
            return 0.0
        return sum(1 for i, r in enumerate(response) if r == i) / len(q["pairs"])

    def review(self, q, order, response):
        return {"rows": [
            {"left": q["pairs"][i]["left"], "right": q["pairs"][i]["right"],
             "picked": None if not response or response[i] is None else q["pairs"][response[i]]["right"],
             "correct": bool(response) and response[i] == i}
            for i in order["left"]
        ]}


class Ordering(QuestionType):
    name, label = "ordering", "Put in order"
    own_keys: ClassVar[set[str]] = {"order"}

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


class ShortAnswer(QuestionType):
    name, label = "short_answer", "Type the answer"
    own_keys: ClassVar[set[str]] = {"answers"}

    def validate_own(self, q):
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers or not all(_nonempty_text(a) for a in answers):
            return [FieldProblem("answers", "a short_answer question needs a list of accepted answers")]
        return []

    def read_form(self, q, order, form, name):
        value = (form.get(name) or "").strip()
        if len(value) > 500:
            raise InvalidResponse("Keep the answer under 500 characters.")
        return value or None

    def form_values(self, q, order, response):
        return {"text": response or ""}

    def score(self, q, response):
        if not response:
            return 0.0
        return 1.0 if _normalise_answer(response) in {_normalise_answer(a) for a in q["answers"]} else 0.0

    def review(self, q, order, response):
        return {"given": response or "", "accepted": list(q["answers"])}


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleChoice(), TrueFalse(), Matching(), Ordering(), ShortAnswer())
}


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]


def validate_question(q: Any) -> list[FieldProblem]:
    """Check one question dict against the common rules and its type's own rules."""
    if not isinstance(q, Mapping):
        return [FieldProblem("id", "each question must be a mapping of keys to values")]
    problems = []
    qid = q.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        problems.append(FieldProblem("id", "id must be lower-case letters, digits, '-', '_' or '.'"))
    for key in ("stem", "explanation"):
        if not _nonempty_text(q.get(key)):
            problems.append(FieldProblem(key, f"missing {key}"))
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
