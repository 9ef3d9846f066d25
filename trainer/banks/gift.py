"""Read and write Moodle's GIFT format, so a trainer can move a bank between Moodle and trainer.

The grammar is Moodle's (docs.moodle.org "GIFT format", and qformat_gift): questions are
separated by blank lines, `// ...` lines are comments, and a question is
`::title::[format]question text{answers####general feedback}`.

How GIFT maps onto our question dicts (see docs/bank-format.md for the dict itself):

- `::title::` -> `id`, normalised to our id form (lower case; runs of a-z 0-9 . _ - joined
  by "-"), so "Kanji Origins" -> "kanji-origins" and a trainer id comes back unchanged.
  Without a usable title the id is made from the stem: `gift-`, a slug of its first words
  and 8 hex digits of its SHA-1, so the same stem always gets the same id.
- `$CATEGORY: a/b/c` -> `tags: ["c"]` for the questions that follow: the last segment only,
  because Moodle categories nest (`$course$/top/Safety`) while our tags are flat labels.
  Context segments (`$course$`, `$system$`, ...) and `top` are ignored; `//` is a literal `/`.
- `// [id:MN-7] [tag:depth]` (Moodle 4) -> the id (Moodle's idnumber wins over the title) and tags.
- `[markdown]`, `[html]`, `[moodle]` at the start of a text are removed and the text is kept as
  it is (our texts are Markdown, and Markdown passes HTML to the sanitiser and the publishing
  rules); `[plain]` text is escaped so that Markdown shows it as typed. The writer marks every
  question text `[markdown]`. `@@PLUGINFILE@@` (a file inside Moodle) gets a warning.
- `####text` (general feedback) -> `explanation`; left out when absent.
- `{=right ~wrong ~%50%half}` -> `single`; a wrong answer's weight is kept as `weight` (partial
  credit when picked, as Moodle grades it). Several `=` answers: the validator refuses it.
- `{~%50%a ~%50%b ~%-100%c}` (weights and no `=`: Moodle's multiple-answer question) ->
  `multiple`: weights of +100/k and -100/k are our `scoring: partial` exactly; any other
  weights are kept as `scoring: weighted` with each choice's `weight` (the sum of the picked
  weights, floored at 0, capped at 100%).
- `{~a ~b}` (no `=` and no weights) -> `single` with no correct choice (the validator reports it).
- `{T}`, `{F}`, `{TRUE}`, `{FALSE}` -> `true_false`. Their `#feedback` parts (Moodle: the first
  for a wrong answer, the second for a right one) -> `feedback_wrong`, `feedback_right`; the
  same text twice -> `feedback` (the writer repeats `feedback` in both places).
- `{=a -> b =c -> d = -> x}` -> `matching`; `= -> x` (no left side) -> `distractors`.
- `{=a =%50%b#close =%0%*#no}` (only `=` answers, or one bare answer like `{3}`) ->
  `short_answer`; an answer with a weight other than 100 or with feedback is kept as
  `{text, weight, feedback}` (`*` stands for any text).
- `{#1.5:0.25}`, `{#1..2}`, `{#=1.5:0.1 =%50%1.5:0.5#close}` -> `numerical` (a range is kept as
  its middle and half its width); `~#feedback` for any other number is dropped with a warning.
- Text after the answers (missing word: `The skin heals {=slowly ~fast} after needling.`) ->
  the stem with `_____` where the answers stood.
- Per-answer `#feedback` on choices -> the choice's `feedback`.
- Escapes `\\~ \\= \\# \\{ \\} \\: \\\\` give the character itself and `\\n` a newline.

Refused, each a problem at the question's line (the rest of the file is still read): essay
`{}`, description (no `{...}`), and broken syntax.

What GIFT cannot hold travels in a comment line Moodle ignores and our reader reads back:
`// trainer: {"source": ..., "difficulty": 2, "critical": true, "feedback": ...,
"scoring": "all_or_nothing", "unit": "mm", "tags": [...]}` before the question. `tags` is
written there only when `$CATEGORY` cannot say it (more than one tag, or none after a tagged
question).

Each type writes its own answers (`to_gift`, `gift_unsupported` in trainer/quiz/types.py) with
this module's escaping, handed over as a small writer. Reading stays here: GIFT tells the types apart
by comparing the shapes of all of them (`_QuestionReader._answers`), so a new type has no GIFT form.
Ordering questions have none either: `gift_unsupported(question)` says why a question cannot
be written (exports list those and write the rest), and `write_gift` raises ValueError naming
the question for any such question.
Texts lose leading and trailing whitespace (Moodle trims them) and carriage returns.
"""
from __future__ import annotations

import hashlib
import json
import re

from trainer.banks.records import BankProblem, ParsedQuestion
from trainer.quiz.types import QUESTION_TYPES, Matching, TrueFalse, parse_number

# A backslash escapes only these; elsewhere it is an ordinary character (as in Moodle).
_ESCAPABLE = set("~=#{}:n\\")
_ESCAPES = {"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}",
            ":": "\\:", "\n": "\\n"}
_FORMAT_MARKER = re.compile(r"\[(?:markdown|html|plain|moodle)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_TRAINER_COMMENT = re.compile(r"//\s*trainer:(.*)$")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_META_KEYS = ("source", "difficulty", "critical", "feedback", "scoring", "tags", "unit")
_CATEGORY = "$CATEGORY:"
_MOODLE_MARKS = re.compile(r"\[(id|tag):([^\]]*)\]")


# --- escapes -----------------------------------------------------------------------------

def _positions(text: str, token: str):
    """Yield every offset where `token` starts outside an escape sequence."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            i += 2
            continue
        if text.startswith(token, i):
            yield i
        i += 1


def _find(text: str, token: str, start: int = 0) -> int:
    """First unescaped `token` at or after `start`, or -1 (scanning from 0, so an escape just
    before `start` is still seen)."""
    for pos in _positions(text, token):
        if pos >= start:
            return pos
    return -1


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text.replace("\r", ""))


def _escape_markdown(text: str) -> str:
    """Plain text that Markdown shows exactly as typed."""
    return re.sub(r"([\\`*_\[\]<>#|~!])", r"\\\1", text)


def _read_text(raw: str, formatted: bool = True, markdown: bool = False) -> str:
    """The text of a GIFT fragment: trimmed, format marker removed, escapes resolved.

    `markdown`: the text is rendered as Markdown (stem, explanation), so `[plain]` text is escaped
    to show exactly as typed; choices and feedback are shown as plain text anyway."""
    raw = raw.strip()
    plain = False
    if formatted:
        marker = _FORMAT_MARKER.match(raw)
        if marker:
            plain = marker.group(0) == "[plain]"
            raw = raw[marker.end():]
    text = _unescape(raw).strip()
    return _escape_markdown(text) if plain and markdown else text


def _write_text(text: str) -> str:
    """Escape a text Moodle reads with a format marker; a leading `[` or `%` would be misread
    as a marker or an answer weight, so such texts get an explicit marker first."""
    prefix = "[markdown]" if text[:1] in ("[", "%") else ""
    return prefix + _escape(text)


# --- ids and categories -----------------------------------------------------------------

def _id_from_title(title: str) -> str:
    """Our id form of a Moodle title: "Kanji Origins" -> "kanji-origins"; our ids stay as they are."""
    return "-".join(re.findall(r"[a-z0-9._-]+", title.lower())).lstrip("-._")[:200]


def _id_from_stem(stem: str) -> str:
    """A stable id for an untitled question: the same stem always gives the same id."""
    slug = ""
    for word in re.findall(r"[a-z0-9]+", stem.lower())[:6]:
        if len(slug) + len(word) >= 40:
            break
        slug = f"{slug}-{word}" if slug else word
    digest = hashlib.sha1(stem.encode("utf-8")).hexdigest()[:8]
    return f"gift-{slug}-{digest}" if slug else f"gift-{digest}"


def _category_tags(path: str) -> list[str]:
    """The tag a `$CATEGORY:` path gives: its last real segment (`//` is a literal slash)."""
    segments = [s.strip().replace("//", "/") for s in re.split(r"(?<!/)/(?!/)", path)]
    names = [s for s in segments if s and s != "top" and not re.fullmatch(r"\$\w+\$", s)]
    return names[-1:]


def _category_safe(tag: str) -> bool:
    """Whether `$CATEGORY: tag` reads back as exactly [tag]."""
    return (bool(tag) and tag == tag.strip() and not re.search(r"[/\\\n\r]", tag)
            and _category_tags(tag) == [tag])


# --- reading -----------------------------------------------------------------------------

def _blocks(text: str):
    """Yield each run of non-blank lines as [(line number, line)]; blank lines separate questions."""
    block = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _split_answers(body: str, offset: int, markers: str) -> list[tuple[str, str, int]]:
    """Split answers at unescaped marker characters: [(marker, text, offset of text)].

    The text before the first marker comes first, with marker ""."""
    cuts = sorted(p for m in markers for p in _positions(body, m))
    parts = [("", body[:cuts[0]] if cuts else body, offset)]
    for i, cut in enumerate(cuts):
        end = cuts[i + 1] if i + 1 < len(cuts) else len(body)
        parts.append((body[cut], body[cut + 1:end], offset + cut + 1))
    return parts


def _split_weight(raw: str) -> tuple[float | None, str]:
    """Split an optional leading `%weight%` off an answer."""
    raw = raw.strip()
    match = _WEIGHT.match(raw)
    if match:
        return float(match.group(1)), raw[match.end():]
    return None, raw


def _split_feedback(raw: str) -> tuple[str, str]:
    """An answer's text and its `#feedback` (empty when there is none)."""
    cut = _find(raw, "#")
    if cut < 0:
        return _read_text(raw), ""
    return _read_text(raw[:cut]), _read_text(raw[cut + 1:])


_BLANK = "_____"
_PLUGINFILE = "@@PLUGINFILE@@"


def _weight_value(weight: float) -> int | float:
    """Weights as the numbers a person wrote: 50 rather than 50.0."""
    return int(weight) if float(weight).is_integer() else weight


def _partial_equivalent(weights: list[float]) -> bool:
    """Whether Moodle's weights grade exactly like our `partial` scoring: each right choice
    100/k and each wrong one -100/k (what the writer produces)."""
    right = [w for w in weights if w > 0]
    share = 100 / len(right) if right else 0
    return bool(right) and all(abs(w - share) < 1e-4 if w > 0 else abs(w + share) < 1e-4 for w in weights)


class _QuestionReader:
    """Reads one question block (comments already removed) into a question dict."""

    def __init__(self, lines: list[tuple[int, str]], path: str):
        self.lines = lines
        self.text = "\n".join(line for _, line in lines)
        self.path = path
        self.problems: list[BankProblem] = []
        self.warnings: list[BankProblem] = []
        self.field_lines: dict[str, int] = {}

    def line_at(self, offset: int) -> int:
        return self.lines[self.text.count("\n", 0, offset)][0]

    def problem(self, message: str, offset: int = 0) -> None:
        self.problems.append(BankProblem(self.path, self.line_at(offset), message))

    def read(self) -> dict | None:
        start = len(self.text) - len(self.text.lstrip())
        title, start = self._title(start)
        braces = self._answer_braces(start)
        if braces is None:
            return None
        open_at, close_at = braces
        question = {}
        stem = _read_text(self.text[start:open_at], markdown=True)
        after = _read_text(self.text[close_at + 1:], formatted=False)
        if after:
            # Moodle's missing-word question: the answers stand for a blank inside the text.
            gap = "" if after[:1] in ".,;:!?)" else " "
            stem = f"{stem} {_BLANK}{gap}{after}".strip()
        if stem:
            question["stem"] = stem
            self.field_lines["stem"] = self.line_at(start)
        question["id"] = _id_from_title(title or "") or _id_from_stem(stem)
        self.field_lines["id"] = self.line_at(0)
        answers_at = open_at + 1
        answers = self.text[answers_at:close_at]
        feedback_at = max(_positions(answers, "####"), default=-1)
        if feedback_at >= 0:
            explanation = _read_text(answers[feedback_at + 4:], markdown=True)
            if explanation:
                question["explanation"] = explanation
                self.field_lines["explanation"] = self.line_at(answers_at + feedback_at)
            answers = answers[:feedback_at]
        question.update(self._answers(answers, answers_at))
        if _PLUGINFILE in self.text:
            self.warnings.append(BankProblem(self.path, self.line_at(self.text.index(_PLUGINFILE)),
                                             "refers to a file inside Moodle (@@PLUGINFILE@@) that a GIFT file "
                                             "does not carry: add the image to the course media and fix the link",
                                             kind="warning"))
        return None if self.problems else question

    def _title(self, start: int) -> tuple[str | None, int]:
        if not self.text.startswith("::", start):
            return None, start
        end = _find(self.text, "::", start + 2)
        if end < 0:
            self.problem("the question title has no closing '::'", start)
            return None, start + 2
        return _read_text(self.text[start + 2:end], formatted=False), end + 2

    def _answer_braces(self, start: int) -> tuple[int, int] | None:
        """Offsets of the `{` and `}` around the answers, or None after reporting why not."""
        open_at = _find(self.text, "{", start)
        close_at = _find(self.text, "}", start)
        if open_at < 0 and close_at < 0:
            self.problem("description questions (text without {answers}) are not gradable here; not imported")
            return None
        if close_at < 0:
            self.problem("'{' without a closing '}' (write \\{ for a literal brace; "
                         "a blank line inside a question ends it)", open_at)
            return None
        if open_at < 0 or close_at < open_at:
            self.problem("'}' without an opening '{' (write \\} for a literal brace)", close_at)
            return None
        inner_open = _find(self.text, "{", open_at + 1)
        if 0 <= inner_open < close_at:
            self.problem("'{' inside the answers (write \\{ for a literal brace)", inner_open)
            return None
        after = self.text[close_at + 1:]
        if _find(after, "{") >= 0:
            self.problem("only one {answers} block is allowed per question", close_at)
            return None
        return open_at, close_at

    def _answers(self, answers: str, offset: int) -> dict:
        """Decide the question type from the answers, as Moodle does, and read them."""
        body = answers.strip()
        offset += len(answers) - len(answers.lstrip())
        self.field_lines["type"] = self.line_at(offset)
        if not body:
            self.problem("essay questions ({}) are not gradable here; not imported", offset)
            return {}
        if body.startswith("#"):
            return self._numerical(body[1:], offset + 1)
        if _find(body, "~") >= 0:
            return self._choices(body, offset)
        if _find(body, "=") >= 0 and _find(body, "->") >= 0:
            return self._matching(body, offset)
        value = body[:_find(body, "#")] if _find(body, "#") >= 0 else body
        if value.strip() in _TRUE_FALSE:
            return self._true_false(body, offset)
        return self._short_answer(body, offset)

    def _choices(self, body: str, offset: int) -> dict:
        lead, *answers = _split_answers(body, offset, "~=")
        if lead[1].strip():
            self.problem("text before the first answer: start each answer with '=' or '~'", offset)
        # Moodle: any '=' answer makes a one-answer question; otherwise several answers may be picked.
        single_mode = any(marker == "=" for marker, _, _ in answers)
        any_weight = False
        choices, weights = [], []
        for marker, raw, at in answers:
            weight, raw = _split_weight(raw)
            any_weight = any_weight or weight is not None
            if weight is None:
                weight = 100.0 if marker == "=" else 0.0
            text, feedback = _split_feedback(raw)
            if not text:
                self.problem("an answer has no text", at)
            if not -100 <= weight <= 100:
                self.problem(f"answer weight %{weight:g}% is outside -100..100", at)
            choice = {"text": text, "correct": weight == 100 if single_mode else weight > 0}
            if single_mode and weight not in (0.0, 100.0):
                choice["weight"] = _weight_value(weight)
            if feedback:
                choice["feedback"] = feedback
            choices.append(choice)
            weights.append(weight)
        if single_mode or not any_weight:
            return {"type": "single", "choices": choices}
        if _partial_equivalent(weights):
            return {"type": "multiple", "choices": choices, "scoring": "partial"}
        for choice, weight in zip(choices, weights, strict=True):
            choice["weight"] = _weight_value(weight)
        return {"type": "multiple", "choices": choices, "scoring": "weighted"}

    def _matching(self, body: str, offset: int) -> dict:
        lead, *answers = _split_answers(body, offset, "=")
        if lead[1].strip():
            self.problem("text before the first pair: start each pair with '='", offset)
        sides = []
        for _, raw, at in answers:
            arrow = _find(raw, "->")
            if arrow < 0:
                self.problem("a matching answer has no '->' (write =left -> right)", at)
                continue
            if _find(raw, "#") >= 0:
                self.problem("feedback (#) on matching pairs is not supported", at)
            left, right = _read_text(raw[:arrow]), _read_text(raw[arrow + 2:], formatted=False)
            if not right:
                self.problem("a matching pair has no right side", at)
            else:
                sides.append((left, right))  # Moodle's `= -> x` (no left): an extra answer no item matches
        return Matching.from_sides(sides)

    def _true_false(self, body: str, offset: int) -> dict:
        cuts = list(_positions(body, "#"))[:2]
        ends = cuts + [len(body)]
        value = body[:ends[0]].strip()
        parts = [_read_text(body[a + 1:b]) for a, b in zip(cuts, ends[1:], strict=True)] + ["", ""]
        question = {"type": "true_false", "answer": _TRUE_FALSE[value]}
        # Moodle: the first #feedback is shown for a wrong answer, the second for a right one.
        question.update(TrueFalse.feedback_fields(right=parts[1], wrong=parts[0]))
        return question

    def _short_answer(self, body: str, offset: int) -> dict:
        lead, *answers = _split_answers(body, offset, "=")
        accepted: list[str | dict] = []
        for _, raw, at in ([lead] if lead[1].strip() else []) + answers:
            weight, raw = _split_weight(raw)
            text, feedback = _split_feedback(raw)
            if not text:
                self.problem("an answer has no text", at)
            if weight is not None and not -100 <= weight <= 100:
                self.problem(f"answer weight %{weight:g}% is outside -100..100", at)
            if weight in (None, 100.0) and not feedback:
                accepted.append(text)
                continue
            answer = {"text": text, "weight": _weight_value(100.0 if weight is None else weight)}
            if feedback:
                answer["feedback"] = feedback
            accepted.append(answer)
        return {"type": "short_answer", "answers": accepted}

    def _numerical(self, body: str, offset: int) -> dict:
        """`{#1.5:0.25}`, `{#1..2}` or `{# =%100%1.5:0.1#fb =%50%1.5:0.5 }` (Moodle's numerical question)."""
        lead, *parts = _split_answers(body, offset, "=~")
        if lead[1].strip():
            # Moodle reads text before the first '=' as an answer too: {#3:2} or {#3:2~#feedback}.
            parts.insert(0, ("=", lead[1], lead[2]))
        answers = []
        for marker, raw, at in parts:
            weight, raw = _split_weight(raw)
            value_text, feedback = _split_feedback(raw)
            if marker == "~":
                # Moodle's "any other number" answer only carries feedback; it never adds credit.
                if value_text:
                    self.problem("a '~' numerical answer cannot carry a value", at)
                elif feedback:
                    self.warnings.append(BankProblem(self.path, self.line_at(at),
                                                     "the feedback for any other number (~#...) is not kept",
                                                     kind="warning"))
                continue
            answer = self._number_range(value_text, at)
            if answer is None:
                continue
            if weight is not None and weight != 100:
                if not -100 <= weight <= 100:
                    self.problem(f"answer weight %{weight:g}% is outside -100..100", at)
                answer["weight"] = _weight_value(weight)
            if feedback:
                answer["feedback"] = feedback
            answers.append(answer)
        if not answers and not self.problems:
            self.problem("a numerical question needs a number, such as {#1.5:0.25} or {#1..2}", offset)
        return {"type": "numerical", "answers": answers}

    def _number_range(self, text: str, at: int) -> dict | None:
        text = text.strip()
        if ".." in text:
            low, _, high = text.partition("..")
            low_value, high_value = parse_number(low), parse_number(high)
            if low_value is None or high_value is None or low_value > high_value:
                self.problem(f"'{text}' is not a range of numbers (write low..high)", at)
                return None
            # Moodle keeps a range as its middle and half its width.
            middle, half_width = (low_value + high_value) / 2, (high_value - low_value) / 2
            return {"value": _number(middle), "tolerance": _number(half_width)}
        value_text, _, tolerance_text = text.partition(":")
        value = parse_number(value_text)
        tolerance = parse_number(tolerance_text) if tolerance_text.strip() else 0.0
        if value is None or tolerance is None or tolerance < 0:
            self.problem(f"'{text}' is not a number with an optional tolerance (write 1.5:0.25)", at)
            return None
        answer = {"value": _number(value)}
        if tolerance:
            answer["tolerance"] = _number(tolerance)
        return answer


def _number(value: float) -> int | float:
    """Round away binary noise (1.1 + 0.2) and keep whole numbers whole."""
    value = round(value, 10)
    return int(value) if value.is_integer() else value


class _GiftReader:
    """Reads a whole file: categories and trainer comments carry over to later questions."""

    def __init__(self, path: str):
        self.path = path
        self.questions: list[ParsedQuestion] = []
        self.problems: list[BankProblem] = []
        self.category_tags: list[str] = []
        self.pending_meta: dict = {}
        self.pending_idnumber: str | None = None
        self.pending_tags: list[str] = []

    def read_block(self, block: list[tuple[int, str]]) -> None:
        content = []
        for number, line in block:
            stripped = line.strip()
            if stripped.startswith("//"):
                self._read_comment(stripped, number)
            else:
                content.append((number, line))
        if content and content[0][1].strip().startswith(_CATEGORY):
            self.category_tags = _category_tags(content[0][1].strip()[len(_CATEGORY):])
            content = content[1:]
        if content:
            self._read_question(content)

    def _read_comment(self, comment: str, number: int) -> None:
        match = _TRAINER_COMMENT.match(comment)
        if not match:
            # Moodle 4 writes a question's idnumber and tags as `// [id:...] [tag:...]`.
            for kind, value in _MOODLE_MARKS.findall(comment):
                if kind == "id":
                    self.pending_idnumber = value.strip()
                elif value.strip():
                    self.pending_tags.append(value.strip())
            return
        try:
            meta = json.loads(match.group(1))
        except ValueError as exc:
            self._problem(number, f"trainer comment is not valid JSON: {exc}")
            return
        if not isinstance(meta, dict):
            self._problem(number, "trainer comment must be a JSON object")
            return
        for key in sorted(meta.keys() - set(_META_KEYS)):
            self._problem(number, f"unknown key '{key}' in trainer comment")
        self.pending_meta.update((k, v) for k, v in meta.items() if k in _META_KEYS)

    def _problem(self, line: int, message: str) -> None:
        self.problems.append(BankProblem(self.path, line, message))

    def _read_question(self, content: list[tuple[int, str]]) -> None:
        reader = _QuestionReader(content, self.path)
        question = reader.read()
        meta, self.pending_meta = self.pending_meta, {}
        idnumber, self.pending_idnumber = self.pending_idnumber, None
        moodle_tags, self.pending_tags = self.pending_tags, []
        self.problems.extend(reader.problems)
        self.problems.extend(reader.warnings)
        if question is None:
            return
        if idnumber and _id_from_title(idnumber):
            question["id"] = _id_from_title(idnumber)  # Moodle's idnumber is the stable key when present
        tags = list(self.category_tags) + [t for t in moodle_tags if t not in self.category_tags]
        if tags:
            question["tags"] = tags
        for key, value in meta.items():
            if value is None or value == "" or value == []:
                question.pop(key, None)
            else:
                question[key] = value
        self.questions.append(ParsedQuestion(data=question, line=content[0][0], path=self.path,
                                             field_lines=reader.field_lines))


def parse_gift(text: str, path: str = "<gift>") -> tuple[list[ParsedQuestion], list[BankProblem]]:
    """Read every question of a GIFT file; problems instead of exceptions, all in one run."""
    reader = _GiftReader(path)
    for block in _blocks(text.removeprefix("\ufeff")):
        reader.read_block(block)
    return reader.questions, reader.problems


# --- writing -----------------------------------------------------------------------------

def gift_unsupported(question: dict) -> str | None:
    """Why `question` cannot be written as GIFT (or would read back as another type), or None."""
    kind = question.get("type")
    if kind not in QUESTION_TYPES:
        return f"unknown question type {kind!r}"
    return QUESTION_TYPES[kind].gift_unsupported(question)


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _number_text(value: int | float) -> str:
    """A number exactly as it reads back (repr keeps every digit a float has)."""
    return repr(value) if isinstance(value, float) else str(value)


class _QuestionWriter:
    """GIFT's escaping and layout for one question, handed to its type (trainer.quiz.types.GiftWriter)."""

    text = staticmethod(_write_text)
    escape = staticmethod(_escape)
    weight = staticmethod(_weight)
    number = staticmethod(_number_text)

    def __init__(self, head: str, explanation: str | None):
        self.head = head
        self.explanation = explanation

    def block(self, answer_lines: list[str], opening: str = "{") -> list[str]:
        lines = [self.head + opening, *answer_lines]
        if self.explanation:
            lines.append("\t####" + _write_text(self.explanation))
        return lines + ["}"]

    def inline(self, answers: str) -> list[str]:
        if self.explanation:
            answers += "####" + _write_text(self.explanation)
        return [self.head + "{" + answers + "}"]


def _meta(question: dict, category_tags: list[str]) -> dict:
    """What GIFT cannot say, for the `// trainer:` comment."""
    qtype = QUESTION_TYPES[question["type"]]
    meta = {key: question[key] for key in ("source", "difficulty", "critical", "unit") if key in question}
    if question.get("feedback") and not qtype.feedback_in_answers(question):
        meta["feedback"] = question["feedback"]
    meta.update(qtype.trainer_comment(question))
    tags = list(question.get("tags", []))
    if tags != category_tags:
        meta["tags"] = tags
    return meta


def _write_question(question: dict, category_tags: list[str]) -> list[str]:
    lines = []
    meta = _meta(question, category_tags)
    if meta:
        lines.append("// trainer: " + json.dumps(meta, ensure_ascii=False))
    head = f"::{_escape(question['id'])}::[markdown]{_escape(question.get('stem', ''))}"
    writer = _QuestionWriter(head, question.get("explanation"))
    return lines + QUESTION_TYPES[question["type"]].to_gift(question, writer)


def write_gift(questions: list[dict]) -> str:
    """Write questions as GIFT; raises ValueError naming the first question GIFT cannot hold."""
    for question in questions:
        reason = gift_unsupported(question)
        if reason:
            raise ValueError(f"question {question.get('id')!r}: {reason}")
    blocks = ["// Exported by trainer. '// trainer:' comments keep what GIFT cannot say."]
    category_tags: list[str] = []
    for question in questions:
        tags = question.get("tags", [])
        if tags and _category_safe(tags[0]) and [tags[0]] != category_tags:
            category_tags = [tags[0]]
            blocks.append(f"{_CATEGORY} {tags[0]}")
        blocks.append("\n".join(_write_question(question, category_tags)))
    return "\n\n".join(blocks) + "\n"
