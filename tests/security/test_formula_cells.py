"""One rule for formula starts (trainer/spreadsheet_cells.py): exports and bank CSV files guard the same ones."""
import csv
import io

import pytest

from trainer.banks.csv_bank import parse_csv, write_csv
from trainer.spreadsheet_cells import FORMULA_TRIGGERS, defuse_formula, starts_formula


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_a_bank_csv_guards_every_start_an_export_defuses(trigger):
    stem = f"{trigger}SUM(A1) is a formula"
    assert starts_formula(stem) and defuse_formula(stem).startswith("'")
    text = write_csv([{"id": "q", "type": "ordering", "stem": stem, "order": ["a", "b"]}])
    row = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert row["stem"] == "'" + stem
    # Read back, the guard is gone (and spacing is tidied as for any cell).
    assert parse_csv(text)[0][0].data["stem"] == stem.strip().replace("\r", "\n")


def test_a_guarded_apostrophe_and_a_trainers_own_apostrophe_both_read_back():
    question = {"id": "q", "type": "ordering", "stem": "'quoted", "order": ["'tis", "=1"]}
    assert parse_csv(write_csv([question]))[0][0].data == question
