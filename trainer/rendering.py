"""Trainer-written Markdown to safe HTML, and the checks that tell an author what would be lost.

Markdown is rendered with markdown-it (CommonMark plus tables) and then cleaned by nh3, so
nothing a trainer writes can run script in a learner's browser. Images point into the
course's media folder: `../media/x.svg` or `media/x.svg` in a module file becomes the URL
that serves that course's media.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import lru_cache
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
}
# No `style` anywhere: a style attribute can cover the whole page (with an off-site link on top).
# Table alignment arrives as one of three classes instead (nh3 wants classes apart from attributes).
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "ol": {"start"}}
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
ALLOWED_CLASSES = {"th": ALIGN_CLASSES, "td": ALIGN_CLASSES}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "xhtmlOut": False}).enable("table")


def media_name(src: str) -> str | None:
    """The media file an image refers to, or None when it is not a course media path."""
    path = posixpath.normpath(src)
    for prefix in ("../media/", "media/"):
        if path.startswith(prefix) and "/" not in path[len(prefix):]:
            return path[len(prefix):]
    return None


def _alignment_as_class(tokens) -> None:
    # markdown-it writes table alignment as style="text-align:right"; the policy allows no style.
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style") or ""
            if style.startswith("text-align:"):
                token.attrs.pop("style", None)
                token.attrSet("class", "align-" + style.split(":", 1)[1].strip())


def _render_html(md: MarkdownIt, text: str, media_url: str | None = None) -> str:
    tokens = md.parse(text or "")
    _alignment_as_class(tokens)
    _rewrite_images(tokens, media_url)
    return md.renderer.render(tokens, md.options, {})


def _rewrite_images(tokens, media_url: str | None) -> None:
    for token in tokens:
        for child in token.children or []:
            if child.type == "image" and media_url is not None:
                name = media_name(child.attrGet("src") or "")
                if name:
                    child.attrSet("src", media_url.rstrip("/") + "/" + name)


def _clean(html: str, link_rel: str | None = "noopener noreferrer") -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, allowed_classes=ALLOWED_CLASSES,
                     url_schemes=ALLOWED_URL_SCHEMES, link_rel=link_rel,
                     clean_content_tags={"script", "style"})


@lru_cache(maxsize=1024)
def render_markdown(text: str, media_url: str | None = None) -> Markup:
    """Render Markdown to sanitised HTML that is safe to put in a page.

    Cached per process: module pages and question stems are the same text on every view, and
    the cache key is the text itself, so an edited text is simply a new entry.
    """
    return Markup(_clean(_render_html(_parser(), text, media_url)))


@dataclass(frozen=True)
class ImageReference:
    src: str
    alt: str
    line: int  # 1-based line in the Markdown text


@dataclass(frozen=True)
class MarkdownProblem:
    line: int  # 1-based line in the Markdown text
    message: str


def image_references(text: str) -> list[ImageReference]:
    """Every image in the Markdown with its alt text and line."""
    refs = []
    for token in _parser().parse(text or ""):
        for child in token.children or []:
            if child.type == "image":
                line = (token.map[0] + 1) if token.map else 1
                refs.append(ImageReference(str(child.attrGet("src") or ""), child.content.strip(), line))
    return refs


def markdown_problems(text: str) -> list[MarkdownProblem]:
    """Report every block whose rendering the sanitiser would change (raw HTML, unsafe links)."""
    md = _parser()
    problems = []
    for token in md.parse(text or ""):
        if token.map is None or token.nesting == -1:
            continue
        if token.type == "html_block" or any(c.type == "html_inline" for c in token.children or []):
            problems.append(MarkdownProblem(token.map[0] + 1,
                                            "raw HTML is not allowed in Markdown; it would be removed"))
    if not problems:
        html = _render_html(md, text)
        # nh3 re-escapes entities its own way (&quot; -> "), so compare the text they stand for.
        if unescape(_clean(html, link_rel=None)) != unescape(html):
            problems.append(MarkdownProblem(1, "some of this Markdown would be removed by the sanitiser"))
    return problems
