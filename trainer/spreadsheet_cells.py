"""Text cells a spreadsheet will not run as formulas (CSV/formula injection): the one home of the rule.

Pure (no Flask, no database), so the domain core (bank CSV files) and the exports share it.
"""
from __future__ import annotations

import re

#: A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet that splits on ";" (or "|", or a tab) starts a new cell after it: "x;=1+1" holds a formula too.
_TRIGGER_AFTER_SEPARATOR = re.compile(r"[,;|\t]\s*[=+\-@\t\r]")


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would read this cell as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def defuse_formula(text: str) -> str:
    """Text no spreadsheet runs as a formula, for every export of text to CSV or XLSX.

    A leading apostrophe marks the cell as text; a formula start after a separator gets one too,
    so a reader that splits the cell there still finds only text.
    """
    if _TRIGGER_AFTER_SEPARATOR.search(text):
        text = _TRIGGER_AFTER_SEPARATOR.sub(lambda m: m.group(0)[:-1] + "'" + m.group(0)[-1], text)
    return "'" + text if starts_formula(text) else text
