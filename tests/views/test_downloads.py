"""Every download goes through views/downloads.py: one RFC 6266 header, one cache rule."""
from trainer.views.downloads import content_disposition, file_download


def test_a_plain_name_is_sent_quoted_as_it_is():
    assert content_disposition("register-home-clinic-2026-12-01.csv") == \
        'attachment; filename="register-home-clinic-2026-12-01.csv"'


def test_a_name_with_other_characters_gets_an_ascii_fallback_and_the_exact_utf8_name():
    assert content_disposition('Zürich "pack".zip') == \
        "attachment; filename=\"Zrichpack.zip\"; filename*=UTF-8''Z%C3%BCrich%20%22pack%22.zip"


def test_personal_files_are_kept_out_of_shared_caches_and_others_are_not(app, tmp_path):
    with app.test_request_context():
        record = file_download(b"%PDF", "record.pdf", "application/pdf")
        template = file_download(b"email\n", "template.csv", "text/csv", personal=False)
        on_disk = tmp_path / "pack.zip"
        on_disk.write_bytes(b"PK")
        pack = file_download(on_disk, "pack.zip", "application/zip")
    assert record.headers["Cache-Control"] == "private, no-store" and record.get_data() == b"%PDF"
    assert "Cache-Control" not in template.headers and template.mimetype == "text/csv"
    assert template.headers["Content-Type"] == "text/csv; charset=utf-8"
    pack.direct_passthrough = False
    assert pack.get_data() == b"PK" and pack.headers["Content-Disposition"] == 'attachment; filename="pack.zip"'
    assert pack.headers["Cache-Control"] == "private, no-store"
