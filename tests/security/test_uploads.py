"""Uploaded course and bank files: no YAML alias bombs, wrong types and overlong text are problems, not crashes."""
import contextlib
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_COURSE
from tests.factories import make_user
from tests.studio.test_bank_file_pages import course_count, login, upload_course, zip_bytes
from trainer.banks.course_folder import load_course
from trainer.banks.records import BankFormatError
from trainer.banks.yaml_bank import MAX_TEXT_CHARS
from trainer.extensions import db

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, folder)
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(BankFormatError) as caught:
        load_course(folder)
    return [str(p) for p in caught.value.problems]


def test_an_alias_bomb_in_course_yaml_is_refused_with_its_line(tmp_path):
    folder = _copy(tmp_path)
    course = folder / "course.yaml"
    course.write_text(course.read_text().replace("summary: A two-module course for tests.\n", "summary: *f\n")
                      .replace("format: trainer-course/1\n", "format: trainer-course/1\nx-bomb:\n  " +
                               ALIAS_BOMB.replace("\n", "\n  ")))
    problems = _problems(folder)
    assert len(problems) == 1 and "anchors (&name) and aliases (*name) are not allowed" in problems[0]
    assert problems[0].startswith(f"{course}:3:")


def test_an_alias_in_a_bank_is_refused(tmp_path):
    folder = _copy(tmp_path)
    bank = folder / "questions" / "care.yaml"
    text = bank.read_text()
    bank.write_text(text.replace("questions:\n", "questions:\n", 1).replace("source: S1", "source: &s S1", 1))
    assert any("aliases (*name) are not allowed" in p for p in _problems(folder))


def test_an_alias_bomb_in_an_uploaded_zip_changes_nothing(app, tmp_path):
    client = app.test_client()
    login(client, make_user("trainer"))
    folder = _copy(tmp_path)
    course = folder / "course.yaml"
    course.write_text(ALIAS_BOMB + course.read_text().replace("summary: A two-module course for tests.",
                                                              "summary: *f"))
    response = upload_course(client, zip_bytes(folder))
    assert response.status_code == 400
    assert "aliases (*name) are not allowed" in response.get_data(as_text=True)
    assert course_count() == 0
    assert client.get("/author/").status_code == 200 and client.get("/learn").status_code in (200, 403)


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


@pytest.mark.parametrize("file_name", ["course.yaml", "questions/basics.yaml"])
def test_a_list_or_mapping_in_place_of_any_value_is_a_problem_not_a_crash(tmp_path, file_name):
    original = yaml.safe_load((TINY_COURSE / file_name).read_text())
    checked = 0
    for path in _paths(original):
        if file_name != "course.yaml" and path[:2] != ("questions", 0):
            continue  # the first question stands for all of them
        for wrong in (["a list"], {"a": "mapping"}):
            folder = tmp_path / f"case{checked}"
            shutil.copytree(TINY_COURSE, folder)
            data = yaml.safe_load((TINY_COURSE / file_name).read_text())
            target = data
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = wrong
            (folder / file_name).write_text(yaml.safe_dump(data))
            with contextlib.suppress(BankFormatError):  # problems with file:line, as wanted
                load_course(folder)
            checked += 1
            shutil.rmtree(folder)
    assert checked > 20


def test_a_list_as_the_question_type_names_the_line(tmp_path):
    folder = _copy(tmp_path)
    bank = folder / "questions" / "basics.yaml"
    bank.write_text(bank.read_text().replace("    type: single\n", "    type: [single]\n", 1))
    assert any(":4: unknown type ['single']" in p for p in _problems(folder))


def test_overlong_text_is_refused(tmp_path):
    folder = _copy(tmp_path)
    course = folder / "course.yaml"
    course.write_text(course.read_text().replace("summary: A two-module course for tests.",
                                                 "summary: " + "x" * (MAX_TEXT_CHARS + 1)))
    problems = _problems(folder)
    assert problems == [f"{course}:4: text longer than {MAX_TEXT_CHARS:,} characters"]


# --- one sanitising policy for every channel -------------------------------------------------------

OVERLAY = '<a href="https://evil.example/"><span style="position:fixed;inset:0">Session expired, sign in</span></a>'


def _published_versions(key: str) -> int:
    from sqlalchemy import func, select

    from trainer.models import Question, QuestionVersion

    return db.session.scalar(select(func.count()).select_from(QuestionVersion).join(Question)
                             .where(Question.key == key, QuestionVersion.published_dt.is_not(None)))


# Uploads are checked by the same publishing rules as the course folder: a question with raw HTML
# arrives as a draft that needs review (the trainer fixes it) and is never drawn or shown to learners.
def test_raw_html_in_a_gift_upload_is_never_published(app):
    from tests.factories import import_course
    from tests.studio.test_bank_file_pages import upload_bank

    import_course(TINY_COURSE)
    client = app.test_client()
    login(client, make_user("trainer"))
    gift = f"::care-html::[markdown]Which product? {OVERLAY}{{\n=Sterile\n~Any serum\n####Sterile only.}}\n"
    response = upload_bank(client, "gift", gift, name="moodle.gift")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "imported as a draft" in text and "stem: raw HTML is not allowed in Markdown" in text
    assert _published_versions("care-html") == 0


def test_raw_html_in_a_csv_upload_is_never_published(app):
    from tests.factories import import_course
    from tests.studio.test_bank_file_pages import upload_bank

    import_course(TINY_COURSE)
    client = app.test_client()
    login(client, make_user("trainer"))
    sheet = ("id,type,stem,choice_1,choice_2,correct,explanation\r\n"
             f"care-html,single,Which sign?,Blanching,Pinkness,1,\"Stop. {OVERLAY.replace(chr(34), chr(39))}\"\r\n")
    response = upload_bank(client, "csv", sheet, name="sheet.csv")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "imported as a draft" in text and "explanation: raw HTML is not allowed in Markdown" in text
    assert _published_versions("care-html") == 0


def test_rendered_markdown_never_carries_a_style_attribute():
    from trainer.rendering import markdown_problems, render_markdown

    table = "| dose | depth |\n|-----:|:-----:|\n| 1 | 0.5 mm |\n"
    html = str(render_markdown(table + "\n" + '<td style="position:fixed;inset:0">x</td>'))
    assert "style" not in html
    assert '<th class="align-right">dose</th>' in html and '<td class="align-center">0.5 mm</td>' in html
    assert markdown_problems(table) == []  # alignment is allowed, as classes


# --- size of uploads and of the error page ---------------------------------------------------------

def test_a_bank_with_thousands_of_problems_lists_the_first_hundred(app):
    from tests.factories import import_course
    from tests.studio.test_bank_file_pages import upload_bank

    import_course(TINY_COURSE)
    client = app.test_client()
    login(client, make_user("trainer"))
    sheet = "id,type,stem,choice_1,choice_2,correct,explanation\r\n" + "".join(
        f"BAD ID {n},single,Stem,A,B,1,Why\r\n" for n in range(1500))
    response = upload_bank(client, "csv", sheet, name="sheet.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "these 1,500 problems" in html
    assert html.count("<li><code>sheet.csv:") == 100
    assert "and 1,400 more problems not listed here" in html
    assert len(html) < 100_000


@pytest.mark.parametrize("file_format", ["gift", "csv"])
def test_a_bank_file_over_its_formats_limit_is_refused_before_parsing(app, file_format):
    from tests.factories import import_course
    from tests.studio.test_bank_file_pages import upload_bank
    from trainer.views.bank_files import MAX_BANK_UPLOAD_BYTES

    import_course(TINY_COURSE)
    client = app.test_client()
    login(client, make_user("trainer"))
    response = upload_bank(client, file_format, "x" * (MAX_BANK_UPLOAD_BYTES[file_format] + 1))
    assert response.status_code == 400
    assert f"file is larger than {MAX_BANK_UPLOAD_BYTES[file_format] // 1024} KiB" in response.get_data(as_text=True)


# --- SVG media ----------------------------------------------------------------------------------

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
BAD_SVGS = {
    "namespaced script": '<svg xmlns="http://www.w3.org/2000/svg"><s:script xmlns:s="http://www.w3.org/2000/svg">'
                         'alert(1)</s:script></svg>',
    "plain script": SVG_HEAD + "<script>alert(1)</script></svg>",
    "event handler": SVG_HEAD + '<rect width="5" height="5" onload="alert(1)"/></svg>',
    "foreign object": SVG_HEAD + '<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject></svg>',
    "external use": SVG_HEAD + '<use href="https://evil.example/x.svg#a"/></svg>',
    "javascript link": SVG_HEAD + '<a xmlns:xl="http://www.w3.org/1999/xlink" xl:href="javascript:alert(1)">'
                                  '<text>x</text></a></svg>',
    "entity bomb": '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>' + SVG_HEAD
                   + "<text>&b;</text></svg>",
    "not svg": '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    "broken": SVG_HEAD + "<rect>",
}


@pytest.mark.parametrize("name", sorted(BAD_SVGS))
def test_unsafe_svg_media_is_refused(tmp_path, name):
    folder = _copy(tmp_path)
    (folder / "media" / "layers.svg").write_text(BAD_SVGS[name])
    problems = _problems(folder)
    assert any(p.startswith(f"{folder / 'media' / 'layers.svg'}:1:") for p in problems), problems


def test_safe_svg_media_with_editor_metadata_is_accepted(tmp_path):
    from trainer.banks.svg import svg_problem

    drawing = (SVG_HEAD + '<title>Layers</title><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
               '</metadata><defs><marker id="m"><path d="M0 0L1 1"/></marker></defs>'
               '<g><rect width="5" height="5" fill="#eee"/><use href="#m"/>'
               '<text x="1" y="2">Epidermis</text></g></svg>')
    assert svg_problem(drawing.encode()) is None
    for path in (TINY_COURSE.parent.parent.parent / "question_banks").rglob("*.svg"):
        assert svg_problem(path.read_bytes()) is None, path
