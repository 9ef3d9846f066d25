"""What every bank reader produces: questions as plain dicts, and problems as `path:line: message`.

A question is a dict with the keys documented in docs/bank-format.md (id, type, stem,
explanation, source, tags, difficulty, critical, feedback, and per type: choices + scoring,
answer, pairs, order, answers). The same dict is what a question version stores.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BankProblem:
    """One thing wrong with a bank or course file, located to a line."""

    path: str
    line: int
    message: str
    #: "error": the question (or file) it concerns is refused; "warning": kept, but worth a look.
    kind: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ParsedQuestion:
    """A question read from a file, with the line it starts on (for later problems)."""

    data: dict
    line: int
    path: str = ""
    #: Line of each top-level key, where the reader knows it (problems point at the field).
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.field_lines.get(key, self.line)


class BankFormatError(Exception):
    """Raised with every problem found, so a caller can print them all and change nothing."""

    def __init__(self, problems: list[BankProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
