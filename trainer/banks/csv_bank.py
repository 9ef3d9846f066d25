"""Read and write a question bank as CSV: one row per question, as a trainer fills a spreadsheet.

Columns (`CSV_HEADER`, in this order when written; when reading, any order, names are
case-insensitive, and unused optional columns may be deleted; id, type and stem must exist):

  id                 the question's stable id (required)
  type               single | multiple | true_false | matching | ordering | short_answer (each type
                     names the columns it uses: QuestionType.csv_columns, from_csv, to_csv)
  stem               the question text (Markdown; a cell may hold several lines)
  choice_1..choice_8 one item per cell, filled from choice_1 without gaps:
                       single, multiple  the choices
                       matching          the left side of each pair
                       ordering          the items, in the correct order
                       short_answer      the accepted answers
  correct            single, multiple: the numbers of the correct choices, e.g. "2" or "1;3"
                     ("1,3" works too); true_false: "true" or "false" (any case; yes/no, 1/0 and
                     a spreadsheet's TRUE/FALSE in German, French, Spanish, Italian, Dutch or
                     Portuguese too: WAHR, VRAI, VERDADERO, VERO, WAAR, VERDADEIRO ...)
  match_1..match_8   matching: the right side paired with choice_N
  feedback_1..8      single, multiple: feedback shown for choice_N (optional)
  scoring            multiple: all_or_nothing | partial
  explanation        why the right answer is right
  general_feedback   optional feedback shown after submission (the question's `feedback`)
  source             optional citation
  tags               optional, separated by ";" (e.g. "contraindications;medication")
  difficulty         optional, 1 (easy) .. 3 (hard)
  critical           optional, true | false (yes/no and 1/0 too): must be answered correctly
                     to pass

A cell a question's type does not use must be empty; a row with a problem is skipped and the
next rows are still read. Empty columns after the last header (Excel leaves them) are ignored.
Cells are trimmed and in-cell line breaks read as "\\n". Excel's
quoting ("" inside quoted cells, quoted line breaks), a UTF-8 byte order mark, CRLF, and ";"
or tab separators (European Excel, pasted sheets) are accepted; a quote left open is a
problem at the row where it opens. Cells starting with = + - @ are written with a leading
"'" so a spreadsheet shows them as text instead of running them as formulas; the reader
removes it. `write_csv` starts with a byte order mark so Excel opens the file as UTF-8, and
raises ValueError for what the columns cannot hold (`csv_unsupported` says why beforehand):
more than 8 items, or a tag that contains ";".
"""
from __future__ import annotations

import csv
import io
from typing import Any

from trainer.banks.records import BankProblem, ParsedQuestion
from trainer.quiz.types import QUESTION_TYPES, QuestionType
from trainer.spreadsheet_cells import starts_formula

MAX_ITEMS = 8


def _numbered(name: str) -> list[str]:
    return [f"{name}_{n}" for n in range(1, MAX_ITEMS + 1)]


CSV_HEADER: list[str] = [
    "id", "type", "stem", *_numbered("choice"), "correct", *_numbered("match"),
    *_numbered("feedback"), "scoring", "explanation", "general_feedback", "source", "tags",
    "difficulty", "critical",
]
_REQUIRED_COLUMNS = ("id", "type", "stem")
_COMMON_COLUMNS = {"id", "type", "stem", "explanation", "general_feedback", "source", "tags",
                   "difficulty", "critical"}


def csv_types() -> dict[str, QuestionType]:
    """The question types CSV has columns for (each type says which: `csv_columns`)."""
    return {name: t for name, t in QUESTION_TYPES.items() if t.csv_columns is not None}


def _used_columns(qtype: QuestionType) -> set[str]:
    """The type's own columns, "choice_N" standing for choice_1 .. choice_8."""
    return {name for column in qtype.csv_columns or ()
            for name in (_numbered(column.removesuffix("_N")) if column.endswith("_N") else [column])}
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False,
             # What spreadsheets in other languages write for TRUE and FALSE (German, French, Spanish,
             # Italian, Dutch, Portuguese), and their yes/no.
             "wahr": True, "falsch": False, "ja": True, "nein": False, "vrai": True, "faux": False,
             "oui": True, "non": False, "verdadero": True, "falso": False, "sí": True, "si": True,
             "vero": True, "waar": True, "onwaar": False, "nee": False, "verdadeiro": True, "sim": True,
             "não": False, "nao": False}


# --- cells -------------------------------------------------------------------------------

def _guard_cell(value: str) -> str:
    """Keep a spreadsheet from running a text as a formula ("'" is removed on reading, so unlike an
    export's defuse_formula the guard is only at the start: the file must read back exactly)."""
    return "'" + value if starts_formula(value) or value.startswith("'") else value


def _read_cell(value: str) -> str:
    # The writer's guard comes off before spacing is tidied: it may stand before a tab or a line break.
    if value.startswith("'") and (starts_formula(value[1:]) or value[1:].startswith("'")):
        value = value[1:]
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _delimiter(text: str) -> str:
    """"," normally; ";" or tab when the header line uses those (Excel in some locales)."""
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


class _BrokenCsv(Exception):
    """The csv module gave up at `line` (a NUL byte, a runaway quoted field, ...)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def _records(text: str):
    """Yield (line where the record starts, cells) for each CSV record."""
    # strict: a quote left open or text after a closing quote is reported, not guessed at.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _BrokenCsv(start, f"not valid CSV from here on: {exc}") from exc


# --- reading -----------------------------------------------------------------------------

def _header_problem(cells: list[str]) -> str | None:
    names = [_read_cell(c).lower() for c in cells]
    missing = [c for c in _REQUIRED_COLUMNS if c not in names]
    unknown = [c for c in names if c not in CSV_HEADER]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if not (missing or unknown or repeated):
        return None
    details = []
    if missing:
        details.append("missing " + ", ".join(missing))
    if unknown:
        details.append("unknown " + ", ".join(repr(c) for c in unknown))
    if repeated:
        details.append("repeated " + ", ".join(repeated))
    return ("the first line must be the header " + ",".join(CSV_HEADER[:3]) + ",... "
            "(see the documented columns): " + "; ".join(details))


class _RowReader:
    """Reads one row into a question dict, collecting problems at the row's line (the CsvCells a type reads)."""

    max_items = MAX_ITEMS

    def __init__(self, row: dict[str, str], line: int, path: str):
        self.row = row
        self.line = line
        self.path = path
        self.problems: list[BankProblem] = []

    def problem(self, message: str) -> None:
        self.problems.append(BankProblem(self.path, self.line, message))

    def get(self, column: str) -> str:
        return self.row.get(column, "")

    def read(self) -> dict | None:
        kind, types = self.row.get("type", ""), csv_types()
        if kind not in types:
            self.problem(f"type must be one of {', '.join(types)} (not {kind!r})")
            return None
        for column in sorted(self.row.keys() - _COMMON_COLUMNS - _used_columns(types[kind])):
            if self.row[column]:
                self.problem(f"column {column} is not used by {kind} questions; leave it empty")
        question = {"type": kind, **self._common()}
        question.update(types[kind].from_csv(self))
        return None if self.problems else question

    def _common(self) -> dict:
        if not self.row.get("id"):
            self.problem("id is empty; every question needs a stable id")
        question: dict[str, Any] = {key: self.row[column] for key, column in
                    (("id", "id"), ("stem", "stem"), ("explanation", "explanation"),
                     ("feedback", "general_feedback"), ("source", "source"))
                    if self.row.get(column)}
        tags = [t.strip() for t in self.row.get("tags", "").split(";") if t.strip()]
        if tags:
            question["tags"] = tags
        if self.row.get("difficulty"):
            question["difficulty"] = self._difficulty(self.row["difficulty"])
        if self.row.get("critical"):
            question["critical"] = self.boolean("critical")
        return question

    def _difficulty(self, value: str):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not number.is_integer():
            self.problem(f"difficulty must be a whole number 1..3 (not {value!r})")
            return value
        return int(number)  # Excel may save 2 as "2.0"

    def boolean(self, column: str):
        value = self.row.get(column, "")
        if value.lower() not in _BOOLEANS:
            self.problem(f"{column} must be true or false (not {value!r})")
            return value
        return _BOOLEANS[value.lower()]

    def items(self, column: str) -> list[str]:
        """The filled cells column_1.., which must not leave gaps."""
        cells = [self.row.get(name, "") for name in _numbered(column)]
        while cells and not cells[-1]:
            cells.pop()
        if "" in cells:
            self.problem(f"{column}_{cells.index('') + 1} is empty but a later {column} is filled")
        return cells

    def correct_numbers(self, count: int) -> set[int]:
        numbers = set()
        for token in self.row.get("correct", "").replace(",", ";").split(";"):
            token = token.strip()
            if not token:
                continue
            if not token.isdigit() or not 1 <= int(token) <= count:
                self.problem(f"correct must list choice numbers 1..{count} like \"1;3\" "
                             f"(not {token!r})")
                continue
            numbers.add(int(token))
        return numbers


def parse_csv(text: str, path: str = "<csv>") -> tuple[list[ParsedQuestion], list[BankProblem]]:
    """Read a CSV bank, one question per row; problems carry the row's line (header is line 1)."""
    questions: list[ParsedQuestion] = []
    problems: list[BankProblem] = []
    try:
        _read_records(_records(text.removeprefix("\ufeff")), path, questions, problems)
    except _BrokenCsv as exc:
        problems.append(BankProblem(path, exc.line, str(exc)))
    return questions, problems


def _read_records(records, path: str, questions: list, problems: list) -> None:
    header = next(records, None)
    if header is None or not any(c.strip() for c in header[1]):
        problems.append(BankProblem(path, 1, "the file is empty; the first line must be the header"))
        return
    cells = list(header[1])
    while cells and not _read_cell(cells[-1]):
        cells.pop()  # Excel saves empty columns after the last used one
    problem = _header_problem(cells)
    if problem:
        problems.append(BankProblem(path, 1, problem))
        return
    columns = [_read_cell(c).lower() for c in cells]
    for line, cells in records:
        cells = [_read_cell(c) for c in cells]
        if not any(cells):
            continue  # spreadsheets leave empty rows behind
        if any(cells[len(columns):]):
            problems.append(BankProblem(path, line, "the row has more cells than the header"))
            continue
        reader = _RowReader(dict(zip(columns, cells, strict=False)), line, path)
        question = reader.read()
        problems.extend(reader.problems)
        if question is not None:
            questions.append(ParsedQuestion(data=question, line=line, path=path))


# --- writing -----------------------------------------------------------------------------

def csv_unsupported(question: dict) -> str | None:
    """Why `question` cannot be written as a CSV row, or None."""
    kind = question.get("type")
    if kind not in QUESTION_TYPES:
        return f"unknown question type {kind!r}"
    qtype = QUESTION_TYPES[kind]
    if qtype.csv_columns is None:
        return f"{kind} questions have no CSV columns"
    reason = qtype.csv_unsupported(question, MAX_ITEMS)
    if reason:
        return reason
    if any(";" in tag or not tag.strip() for tag in question.get("tags", [])):
        return "a tag that is empty or contains ';' cannot be written to the tags column"
    return None


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(question: dict) -> dict[str, str]:
    row = {column: question[key] for key, column in
           (("id", "id"), ("type", "type"), ("stem", "stem"), ("explanation", "explanation"),
            ("feedback", "general_feedback"), ("source", "source"), ("difficulty", "difficulty"),
            ("critical", "critical"))
           if key in question}
    row["tags"] = ";".join(question.get("tags", []))
    row.update(QUESTION_TYPES[question["type"]].to_csv(question))
    return {column: _cell(value) for column, value in row.items()}


def write_csv(questions: list[dict]) -> str:
    """Write questions as CSV (header first); raises ValueError naming a question CSV cannot hold."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for question in questions:
        reason = csv_unsupported(question)
        if reason:
            raise ValueError(f"question {question.get('id')!r}: {reason}")
        row = _row(question)
        writer.writerow([_guard_cell(row.get(column, "")) for column in CSV_HEADER])
    return "\ufeff" + buffer.getvalue()
