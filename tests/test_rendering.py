"""Trainer Markdown is rendered and sanitised: nothing can run script in a learner's browser."""
from trainer.rendering import render_markdown


def test_script_and_event_handlers_are_removed():
    html = render_markdown(
        "Hi <script>alert(1)</script> <img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">x</a>")
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_markdown_features_survive():
    html = render_markdown("## Title\n\n**bold** [link](https://example.org)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html and "<td>1</td>" in html
    assert 'rel="noopener noreferrer"' in html


def test_course_images_point_at_the_media_route():
    html = render_markdown("![Layers](../media/layers.svg)", "/courses/c/media/")
    assert '<img src="/courses/c/media/layers.svg" alt="Layers">' in html
