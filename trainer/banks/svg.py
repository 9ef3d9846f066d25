"""Checking course SVGs with a real XML parser against a list of known-safe elements.

A pattern search misses `<s:script xmlns:s="http://www.w3.org/2000/svg">`; parsing resolves the
namespace, so a script is a script whatever its prefix. defusedxml refuses entity expansion and
external references while parsing.
"""
from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
#: Drawing, text and paint elements; nothing that runs script, embeds a document or loads a file.
SAFE_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "metadata", "symbol", "use", "marker", "clipPath", "mask", "pattern",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "filter", "feGaussianBlur", "feOffset", "feBlend", "feFlood",
    "feComposite", "feMerge", "feMergeNode", "feColorMatrix", "feDropShadow",
}
_LINK_ATTRIBUTES = {"href", f"{{{XLINK_NS}}}href"}


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


def svg_problem(data: bytes) -> str | None:
    """Why this SVG may not be served to learners, or None when every element and attribute is safe."""
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        return f"not a well-formed SVG file ({exc})"
    if _local(root.tag) != (SVG_NS, "svg"):
        return "the file's top element must be an <svg> in the SVG namespace"
    inside_metadata = {id(el) for meta in root.iter(f"{{{SVG_NS}}}metadata") for el in meta.iter() if el is not meta}
    for element in root.iter():
        namespace, local = _local(element.tag)
        if id(element) in inside_metadata:
            continue  # editors' metadata (RDF, Dublin Core) is never rendered
        if namespace != SVG_NS or local not in SAFE_ELEMENTS:
            return f"SVG element <{local}> is not allowed (allowed: drawing, text and paint elements)"
        for name, value in element.attrib.items():
            _, attribute = _local(name)
            if attribute.lower().startswith("on"):
                return f"SVG attribute {attribute} (an event handler) is not allowed"
            if name in _LINK_ATTRIBUTES and not value.startswith("#"):
                return "SVG links may only point inside the file (href=\"#id\")"
            if "javascript:" in value.lower().replace(" ", ""):
                return "SVG attributes must not contain javascript: URLs"
    return None
