"""The score histogram: valid, accessible SVG whose bar heights follow the counts."""
import xml.etree.ElementTree as ET

import pytest

from trainer.analysis.histogram_svg import score_histogram_svg

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [f"{i * 10}-{i * 10 + 10}%" for i in range(10)]


def parse(svg):
    return ET.fromstring(svg)


def bars(root):
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def test_chart_is_an_image_with_a_title_and_a_spoken_summary():
    root = parse(score_histogram_svg([0, 1, 2, 0, 0, 0, 0, 0, 0, 3], LABELS, "Quiz scores"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Quiz scores"
    summary = root.get("aria-label")
    assert summary.startswith("Quiz scores")
    assert "10-20%: 1" in summary and "90-100%: 3" in summary


def test_bar_heights_are_proportional_to_the_counts():
    counts = [0, 1, 2, 0, 4, 0, 0, 8, 0, 3]
    root = parse(score_histogram_svg(counts, LABELS, "Scores"))
    heights = [float(bar.get("height")) for bar in bars(root)]
    assert len(heights) == 10
    tallest = max(heights)
    assert tallest > 0
    for height, count in zip(heights, counts, strict=True):
        assert height / tallest == pytest.approx(count / 8, abs=0.001)


def test_bars_stand_on_one_baseline():
    root = parse(score_histogram_svg([1, 3, 2], LABELS[:3], "Scores"))
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 2) for b in bars(root)}
    assert len(bottoms) == 1


def test_every_bucket_has_a_visible_label_and_count():
    root = parse(score_histogram_svg([5, 0, 2], LABELS[:3], "Scores"))
    texts = [text.text for text in root.iter(f"{SVG}text")]
    for label in LABELS[:3]:
        assert label in texts
    assert {"5", "0", "2"} <= set(texts)
    tooltips = [bar.find(f"{SVG}title").text for bar in bars(root)]
    assert tooltips == ["0-10%: 5 attempts", "10-20%: 0 attempts", "20-30%: 2 attempts"]


def test_all_zero_counts_draw_flat_bars_and_say_so():
    root = parse(score_histogram_svg([0] * 10, LABELS, "Scores"))
    assert all(float(bar.get("height")) == 0 for bar in bars(root))
    assert "no attempts" in root.get("aria-label")


def test_text_is_escaped_and_no_script_is_emitted():
    hostile = '<script>alert("x")</script> & \'co\''
    svg = score_histogram_svg([1, 2], [hostile, "b&b"], hostile)
    root = parse(svg)  # would raise if the markup were broken
    assert root.find(f"{SVG}title").text == hostile
    assert hostile in root.get("aria-label")
    assert not list(root.iter(f"{SVG}script"))
    assert "<script" not in svg
    assert "b&b" in [text.text for text in root.iter(f"{SVG}text")]


def test_mismatched_labels_are_refused():
    with pytest.raises(ValueError):
        score_histogram_svg([1, 2, 3], ["a", "b"], "Scores")


def test_empty_chart_is_still_valid_svg():
    root = parse(score_histogram_svg([], [], "Scores"))
    assert bars(root) == []
    assert root.get("role") == "img"


def test_status_bars_are_proportional_and_labelled():
    import xml.etree.ElementTree as ET

    from trainer.analysis.histogram_svg import status_bars_svg
    svg = status_bars_svg([("Certified", 4), ("Expired", 2), ("<Not started>", 0)], "Staff by status")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    widths = [float(r.get("width")) for r in root.iter(f"{ns}rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert root.get("role") == "img" and "Certified 4" in root.get("aria-label")
    assert "<Not started>" not in svg and "&lt;Not started&gt;" in svg
