"""Certificate PDFs and the ZIP of several: what is printed, the QR code, safe archive names."""
import io
import zipfile
from datetime import date

import pypdf
import pytest
import segno
from PIL import Image

from trainer.certification import pdf
from trainer.certification.pdf import certificate_pdf, certificates_zip, latin1_text, verify_qr_png

CODE = "q7Yx2Lr9Kd0sWm4Tn8Vb1Zc5Hf3Jg6Pa"
VERIFY_URL = f"https://trainer.example/verify/{CODE}"


def facts(**overrides) -> dict:
    return {"holder": "Pat Learner", "course_title": "Microneedling Practitioner", "issued": date(2026, 3, 2),
            "expires": date(2027, 3, 2), "score_percent": 87.46, "organisation": "Harbour Clinic · Trainer",
            "code": CODE, "verify_url": VERIFY_URL, **overrides}


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def qr_matrix_of(image: Image.Image, modules: int) -> list[list[bool]]:
    """Read a QR symbol back from an image: find the dark area and sample each module's centre."""
    gray = image.convert("L")
    dark = Image.eval(gray, lambda v: 255 if v < 128 else 0)
    left, top, right, bottom = dark.getbbox()
    step_x, step_y = (right - left) / modules, (bottom - top) / modules
    return [[gray.getpixel((int(left + (col + 0.5) * step_x), int(top + (row + 0.5) * step_y))) < 128
             for col in range(modules)] for row in range(modules)]


def expected_matrix(url: str) -> list[list[bool]]:
    return [[bool(bit) for bit in row] for row in segno.make(url, error="m", micro=False).matrix]


def test_the_page_is_a4_landscape_and_prints_every_fact():
    document = certificate_pdf(**facts())
    page = pypdf.PdfReader(io.BytesIO(document)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    text = pdf_text(document)
    for printed in ("Pat Learner", "Microneedling Practitioner", CODE, "2 March 2026", "2 March 2027", "87.5%",
                    "Harbour Clinic · Trainer", VERIFY_URL):
        assert printed in text


def test_the_qr_code_in_the_pdf_encodes_the_verify_url():
    page = pypdf.PdfReader(io.BytesIO(certificate_pdf(**facts()))).pages[0]
    assert len(page.images) == 1
    wanted = expected_matrix(VERIFY_URL)
    assert qr_matrix_of(page.images[0].image, len(wanted)) == wanted


def test_verify_qr_png_is_segnos_symbol_for_the_url():
    image = Image.open(io.BytesIO(verify_qr_png(VERIFY_URL)))
    wanted = expected_matrix(VERIFY_URL)
    assert qr_matrix_of(image, len(wanted)) == wanted
    assert qr_matrix_of(image, len(wanted)) != expected_matrix(VERIFY_URL + "x")


@pytest.mark.parametrize("unicode_font", [True, False], ids=["dejavu", "core-fonts"])
def test_names_outside_ascii_never_crash(monkeypatch, unicode_font):
    if not unicode_font:
        monkeypatch.setattr(pdf, "UNICODE_FONT", "/nonexistent/font.ttf")
    document = certificate_pdf(**facts(holder="Zoë Ñúñez-Łukasz 王", course_title="Aftercare — “Day 1” …",
                                       organisation="Clínica Søndergård · Trainer"))
    text = pdf_text(document)
    assert "Zoë Ñúñez" in text and CODE in text
    assert ("Łukasz" if unicode_font else "Lukasz") in text


def test_the_unicode_font_is_used_when_present():
    if not pdf.os.path.isfile(pdf.UNICODE_FONT):
        pytest.skip("DejaVu Sans is not installed")
    reader = pypdf.PdfReader(io.BytesIO(certificate_pdf(**facts())))
    names = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("DejaVu" in name for name in names), names


def test_very_long_names_and_titles_stay_on_one_page():
    document = certificate_pdf(**facts(holder="Maximiliana " * 40, course_title="A very long course title " * 30))
    text = pdf_text(document)
    assert "Maximiliana" in text and "..." in text and CODE in text


def test_the_same_certificate_always_gives_the_same_file():
    assert certificate_pdf(**facts()) == certificate_pdf(**facts())


def test_a_missing_score_prints_a_dash():
    assert "SCORE" in pdf_text(certificate_pdf(**facts(score_percent=None)))


def test_latin1_text_keeps_what_latin1_has_and_spells_the_rest():
    assert latin1_text("Zoë Ñúñez") == "Zoë Ñúñez"
    assert latin1_text("Łukasz Dvořák – “Ann”") == 'Lukasz Dvorák - "Ann"'
    assert latin1_text("王") == "?"


def test_the_zip_holds_each_document_under_a_flat_unique_name():
    archive = certificates_zip([("pat-course-A.pdf", b"%PDF-1"), ("../../etc/passwd", b"x"), ("/abs/olute.pdf", b"y"),
                                ("C:\\win\\evil.pdf", b"z"), ("pat-course-A.pdf", b"%PDF-2"), ("Zoë Ñ.pdf", b"w"),
                                ("..", b"v")])
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = z.namelist()
        assert names == ["pat-course-A.pdf", "etc-passwd", "abs-olute.pdf", "C-win-evil.pdf", "pat-course-A-2.pdf",
                         "Zoe-N.pdf", "document"]
        assert z.read("pat-course-A.pdf") == b"%PDF-1" and z.read("pat-course-A-2.pdf") == b"%PDF-2"
        assert z.testzip() is None
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_the_zip_is_the_same_for_the_same_documents():
    documents = [("a.pdf", b"one"), ("b.pdf", b"two")]
    assert certificates_zip(documents) == certificates_zip(documents)


def test_an_empty_zip_is_still_a_valid_archive():
    with zipfile.ZipFile(io.BytesIO(certificates_zip([]))) as z:
        assert z.namelist() == []


def test_the_check_it_at_line_is_readable_on_paper():
    """The verification address is printed at 9 pt or more (it was 8 pt)."""
    sizes = []

    def visit(text, cm, tm, font, size):
        if "Check it at" in text:
            sizes.append(size * (tm[0] if tm[0] else 1))

    pypdf.PdfReader(io.BytesIO(certificate_pdf(**facts()))).pages[0].extract_text(visitor_text=visit)
    assert sizes and min(sizes) >= 9
