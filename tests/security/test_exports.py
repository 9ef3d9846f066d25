"""Exports never hand a spreadsheet a live formula, whatever separator it splits cells on."""
import csv
import io

import pytest

from trainer.services.exports import register_csv
from trainer.spreadsheet_cells import defuse_formula

TRICKY = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "x;=1+1", "x; =1+1", "x|=1", "x,=1", "x\t=1", "x;@A1"]


def _cells_a_spreadsheet_might_see(text: str) -> list[str]:
    """Every way a spreadsheet could split this cell: as one, or at any separator."""
    pieces = [text]
    for separator in ",;|\t":
        for cell in list(pieces):
            pieces.extend(cell.split(separator))
    return pieces


@pytest.mark.parametrize("value", TRICKY)
def test_no_piece_of_a_defused_cell_starts_a_formula(value):
    defused = defuse_formula(value)
    for piece in _cells_a_spreadsheet_might_see(defused):
        assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (value, defused, piece)


def test_harmless_text_is_left_alone():
    for value in ("Anne-Marie O'Neil", "Clinic North; Room 2", "a@b.example", "x - y"):
        assert defuse_formula(value) == value


def test_register_csv_quotes_every_cell_and_defuses_names():
    text = register_csv([{"name": "x;=1+1", "email": "a@b.example", "score": 3}])
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == '"name","email","score"'
    assert lines[1] == '"x;\'=1+1","a@b.example","3"'
    # Read by a spreadsheet that splits on ";": the quotes keep the name whole, and nothing starts with "=".
    for row in csv.reader(io.StringIO(lines[1]), delimiter=";"):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
