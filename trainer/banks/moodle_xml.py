"""Read and write Moodle XML (Question bank › Export › Moodle XML format), both ways.

The file is parsed with defusedxml (no DTDs, no entities, no external references), so a
hostile file cannot expand or fetch anything. How Moodle's question types map onto ours:

- `category` -> the first tag of the questions that follow: the last segment of its path, as
  for GIFT's `$CATEGORY:` (`$course$/top/Safety/Contraindications` -> `Contraindications`).
- `<name>` -> `id` (our id form), unless `<idnumber>` is set: then the idnumber is the id.
- `<questiontext>`, `<generalfeedback>` (-> `explanation`), per-answer `<feedback>`: the text.
  `format="plain_text"` is escaped so Markdown shows it as typed; `html`, `markdown` and
  `moodle_auto_format` are kept as they are (the sanitiser and the publishing rules decide
  whether HTML can stay). `<tags>` -> `tags`.
- `<file encoding="base64">` images (png, jpg, gif, webp, svg) -> course media; `@@PLUGINFILE@@/x.png`
  in a text -> `media/x.png` (an `<img>` becomes a Markdown image). Other files are left out
  with a warning, and a link to a file the XML does not carry stays as it is, with a warning.
- `html` choices, answers, matching sides and their feedback are read as the plain text they
  show (our choices are shown as plain text).
- `multichoice` with `<single>true</single>` -> `single` (a choice with a fraction other than
  0 or 100 keeps it as `weight`); with `false` -> `multiple`, `scoring: partial` when the
  fractions are +100/k and -100/k, otherwise `scoring: weighted` with every fraction kept.
- `truefalse` -> `true_false`, each answer's feedback -> `feedback_right` / `feedback_wrong`.
- `matching` -> `matching` (a subquestion without text, Moodle's extra wrong answer, is refused).
- `shortanswer` -> `short_answer` (fractions and feedback kept; `usecase` 1 is refused: we
  compare without case).
- `numerical` -> `numerical` (value, tolerance, fraction, feedback; a unit with multiplier 1).
- `ordering` (the qtype_ordering plugin) -> `ordering` when it grades all or nothing.
- Anything else (essay, description, cloze, calculated, drag and drop ...) is refused with its line.

Each of our types reads and writes its own elements (`moodle_qtype`, `from_moodle_xml`, `to_moodle_xml`
in trainer/quiz/types.py) with this module's XML helpers, handed over as a small reader or writer.

What Moodle XML cannot hold (source, difficulty, critical, general feedback of choice
questions, all-or-nothing scoring) travels in a `<!-- trainer: {...} -->` comment inside the
question, which Moodle ignores and this reader reads back.
"""
from __future__ import annotations

import base64
import binascii
import html
import json
import re
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder
from xml.sax.saxutils import escape

from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from trainer.banks.gift import (
    _category_safe,
    _category_tags,
    _escape_markdown,
    _id_from_stem,
    _id_from_title,
    _number,
    _partial_equivalent,
    _weight_value,
)
from trainer.banks.records import BankProblem, ParsedQuestion
from trainer.quiz.types import QUESTION_TYPES, QuestionType, parse_number

#: Media Moodle may embed that a course can hold (the same kinds as a course's media/ folder).
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
_PLUGINFILE = "@@PLUGINFILE@@/"
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*("([^"]*)"|'([^']*)')""")
_META_KEYS = ("source", "difficulty", "critical", "feedback", "scoring", "tags", "unit")
_UNSUPPORTED = {
    "essay": "essay questions are not gradable here",
    "description": "description items are not questions",
    "multianswer": "embedded-answer (cloze) questions are not supported",
    "calculated": "calculated questions are not supported",
    "calculatedsimple": "calculated questions are not supported",
    "calculatedmulti": "calculated questions are not supported",
    "randomsamatch": "random short-answer matching questions are not supported",
    "ddwtos": "drag-and-drop questions are not supported", "ddimageortext": "drag-and-drop questions are not supported",
    "ddmarker": "drag-and-drop questions are not supported",
    "gapselect": "select-missing-word questions are not supported",
}


class _LineTreeBuilder(TreeBuilder):
    """Keeps comments and the line each element starts on (for `path:line` problems)."""

    def __init__(self):
        super().__init__(insert_comments=True)
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def _text_of(element: Element | None, path: str = "text") -> str:
    node = element.find(path) if element is not None else None
    return (node.text or "").strip() if node is not None else ""


def _plain(text: str) -> str:
    """HTML as the plain text our choices, answers and their feedback are shown as: tags dropped, entities read."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", text, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _is_comment(element) -> bool:
    return not isinstance(element.tag, str)


class _MoodleXmlReader:
    def __init__(self, path: str, lines: dict[int, int]):
        self.path = path
        self.lines = lines
        self.questions: list[ParsedQuestion] = []
        self.problems: list[BankProblem] = []
        self.category_tags: list[str] = []
        #: Images found in the file: name -> (content type, bytes).
        self.media: dict[str, tuple[str, bytes]] = {}

    def line(self, element: Element) -> int:
        return self.lines.get(id(element), 1)

    def problem(self, element: Element, message: str, kind: str = "error") -> None:
        self.problems.append(BankProblem(self.path, self.line(element), message, kind=kind))

    def read(self, root: Element) -> None:
        if root.tag != "quiz":
            self.problems.append(BankProblem(self.path, self.line(root), "a Moodle XML file starts with <quiz>"))
            return
        for element in root:
            if _is_comment(element):
                continue
            if element.tag != "question":
                self.problem(element, f"unexpected <{element.tag}> inside <quiz>")
                continue
            kind = element.get("type", "")
            if kind == "category":
                self.category_tags = _category_tags(_text_of(element, "category/text"))
                continue
            question = self._question(element, kind)
            if question is not None:
                self.questions.append(ParsedQuestion(question, self.line(element), self.path,
                                                     {"id": self.line(element)}))

    # --- texts and files ------------------------------------------------------------------
    def _files(self, element: Element, owner: Element) -> None:
        for node in element.findall("file"):
            name = (node.get("name") or "").strip()
            suffix = name[name.rfind("."):].lower() if "." in name else ""
            if not name or "/" in name or "\\" in name or suffix not in IMAGE_TYPES:
                self.problem(owner, f"file {name or '(no name)'} is not an image a course can hold "
                                    f"({', '.join(sorted(IMAGE_TYPES))}); it was left out", "warning")
                continue
            try:
                data = base64.b64decode((node.text or "").strip(), validate=False)
            except (binascii.Error, ValueError):
                self.problem(owner, f"file {name} is not valid base64; it was left out", "warning")
                continue
            if len(data) > MAX_IMAGE_BYTES:
                self.problem(owner, f"file {name} is larger than {MAX_IMAGE_BYTES // 1024} KiB; it was left out",
                             "warning")
            elif suffix == ".svg" and re.search(rb"<script|\son\w+\s*=|javascript:", data, re.I):
                self.problem(owner, f"file {name} contains scripts; it was left out", "warning")
            elif name in self.media and self.media[name][1] != data:
                self.problem(owner, f"two different files are named {name}; only the first was kept", "warning")
            else:
                self.media[name] = (IMAGE_TYPES[suffix], data)

    def _text(self, element: Element | None, owner: Element) -> str:
        """The text of a <questiontext>, <generalfeedback>, <feedback> ... element, as our Markdown."""
        if element is None:
            return ""
        self._files(element, owner)
        text = _text_of(element)
        if element.get("format") == "plain_text":
            return _escape_markdown(text)
        if element.get("format") == "html":
            # Paragraph tags would make the text an HTML block, where Markdown (our images) is not read.
            text = re.sub(r"</p>\s*<p>", "\n\n", text.strip(), flags=re.I)
            text = re.sub(r"^<p>(.*)</p>$", r"\1", text, flags=re.I | re.S)
        return _media_links(text, self.media)

    # --- questions ------------------------------------------------------------------------
    def _question(self, element: Element, kind: str) -> dict | None:
        before = len([p for p in self.problems if p.kind == "error"])
        name = _text_of(element, "name/text")
        qtype = _type_reading(kind)
        if kind in _UNSUPPORTED or qtype is None:
            self.problem(element, f"{_UNSUPPORTED.get(kind, f'{kind!r} questions are not supported')}; "
                                  f"'{name}' was not imported")
            return None
        question: dict[str, Any] = {}
        stem = self._text(element.find("questiontext"), element)
        if stem:
            question["stem"] = stem
        idnumber = (element.findtext("idnumber") or "").strip()
        question["id"] = _id_from_title(idnumber) or _id_from_title(name) or _id_from_stem(stem)
        explanation = self._text(element.find("generalfeedback"), element)
        if explanation:
            question["explanation"] = explanation
        question.update(qtype.from_moodle_xml(_QuestionSource(self, element)))
        tags = list(self.category_tags)
        tags += [t for node in element.findall("tags/tag") if (t := _text_of(node)) and t not in tags]
        if tags:
            question["tags"] = tags
        self._meta(element, question)
        if "@@PLUGINFILE@@" in json.dumps(question):
            self.problem(element, "refers to a file (@@PLUGINFILE@@) that the XML does not carry: add the image "
                                  "to the course media and fix the link", "warning")
        errors = len([p for p in self.problems if p.kind == "error"])
        return None if errors > before else question

    def _meta(self, element: Element, question: dict) -> None:
        for node in element:
            if _is_comment(node) and (node.text or "").strip().startswith("trainer:"):
                try:
                    meta = json.loads((node.text or "").strip()[len("trainer:"):])
                except ValueError as exc:
                    self.problem(element, f"trainer comment is not valid JSON: {exc}")
                    return
                if not isinstance(meta, dict):
                    self.problem(element, "trainer comment must be a JSON object")
                    return
                for key in sorted(meta.keys() - set(_META_KEYS)):
                    self.problem(element, f"unknown key '{key}' in trainer comment")
                for key, value in meta.items():
                    if key not in _META_KEYS:
                        continue
                    if value in (None, "", []):
                        question.pop(key, None)
                    else:
                        question[key] = value

    def _answers(self, element: Element) -> list[tuple[Element, float | None, str, str]]:
        """(element, fraction, text, feedback) for each <answer>."""
        answers = []
        for node in element.findall("answer"):
            fraction = parse_number(node.get("fraction", "0"))
            if fraction is None or not -100 <= fraction <= 100:
                self.problem(node, f"answer fraction {node.get('fraction')!r} is not a percentage from -100 to 100")
            text_node = node.find("text")
            raw = (text_node.text or "").strip() if text_node is not None else ""
            # Choices, answers and their feedback are shown as plain text: HTML is read as the text it shows.
            text = _plain(raw) if node.get("format") == "html" else raw
            self._files(node, node)
            feedback_node = node.find("feedback")
            feedback = _text_of(feedback_node) if feedback_node is not None else ""
            if feedback_node is not None and feedback_node.get("format") == "html":
                feedback = _plain(feedback)
            answers.append((node, fraction, text, feedback))
        return answers


class _QuestionSource:
    """One <question> element as its type reads it (trainer.quiz.types.MoodleXmlSource)."""

    def __init__(self, reader: _MoodleXmlReader, element: Element):
        self.reader = reader
        self.element = element

    def value(self, path: str, default: str = "") -> str:
        return (self.element.findtext(path) or default).strip()

    def nodes(self, path: str) -> list[Element]:
        return self.element.findall(path)

    def answers(self) -> list[tuple[Element, float | None, str, str]]:
        return self.reader._answers(self.element)

    def subquestions(self) -> list[tuple[str, str]]:
        return [(_plain(_text_of(node)) if node.get("format") == "html" else _text_of(node),
                 _text_of(node, "answer/text")) for node in self.element.findall("subquestion")]

    def problem(self, message: str, at: Element | None = None, kind: str = "error") -> None:
        self.reader.problem(self.element if at is None else at, message, kind)

    number = staticmethod(_number)

    @staticmethod
    def weight(fraction: float) -> int | float:
        return _weight_value(round(fraction, 5))

    partial_scoring = staticmethod(_partial_equivalent)


def _type_reading(kind: str) -> QuestionType | None:
    """The type of ours that reads Moodle's `kind` (the first registered, when several share it)."""
    return next((t for t in QUESTION_TYPES.values() if t.moodle_qtype == kind), None)


def _media_links(text: str, kept: dict) -> str:
    """Point Moodle's links to the images the file carried at the course media:
    `<img src="@@PLUGINFILE@@/a.png" alt="x">` -> `![x](media/a.png)`, any other `@@PLUGINFILE@@/a.png`
    -> `media/a.png`. Links to files that were not kept stay as they are (and get a warning)."""
    def image(match: re.Match) -> str:
        attributes = {m.group(1).lower(): m.group(3) if m.group(3) is not None else m.group(4)
                      for m in _ATTRIBUTE.finditer(match.group(0))}
        src = attributes.get("src", "")
        if not src.startswith(_PLUGINFILE) or src[len(_PLUGINFILE):] not in kept:
            return match.group(0)
        alt = attributes.get("alt", "").replace("[", "").replace("]", "")
        return f"![{alt}](media/{src[len(_PLUGINFILE):]})"

    text = _IMG_TAG.sub(image, text)
    return re.sub(re.escape(_PLUGINFILE) + r"([^\s\"'<>)]+)",
                  lambda m: f"media/{m.group(1)}" if m.group(1) in kept else m.group(0), text)


def parse_moodle_xml_with_media(text: str, path: str = "<moodlexml>"
                                ) -> tuple[list[ParsedQuestion], list[BankProblem], dict[str, tuple[str, bytes]]]:
    """Read a Moodle XML file: questions, problems (each at its line) and the embedded images."""
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        # The text is already decoded (decode_bank_bytes); a declared encoding would make expat decode it again.
        text = re.sub(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""", r"\1", text.removeprefix("\ufeff"))
        parser.feed(text.encode("utf-8"))
        root = parser.close()
    except DefusedXmlException:
        return [], [BankProblem(path, 1, "the file declares a DTD or entities, which are refused for safety")], {}
    except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
        line = getattr(exc, "position", (1, 0))[0]
        return [], [BankProblem(path, line, f"not well-formed XML: {exc.msg if hasattr(exc, 'msg') else exc}")], {}
    reader = _MoodleXmlReader(path, builder.lines)
    reader.read(root)
    used = {name for q in reader.questions for name in re.findall(r"media/([^)\s\"'<>]+)", json.dumps(q.data))}
    return reader.questions, reader.problems, {k: v for k, v in reader.media.items() if k in used}


def parse_moodle_xml(text: str, path: str = "<moodlexml>") -> tuple[list[ParsedQuestion], list[BankProblem]]:
    """Read a Moodle XML file into questions and problems (the embedded images are dropped)."""
    questions, problems, _ = parse_moodle_xml_with_media(text, path)
    return questions, problems


# --- writing -----------------------------------------------------------------------------

def moodle_xml_unsupported(question: dict) -> str | None:
    """Why `question` cannot be written as Moodle XML, or None."""
    kind = question.get("type")
    if kind not in QUESTION_TYPES:
        return f"unknown question type {kind!r}"
    return QUESTION_TYPES[kind].moodle_xml_unsupported(question)


def _cdata_text(text: str) -> str:
    # Moodle writes texts as CDATA; "]]>" cannot appear inside one, so such texts are escaped instead.
    return f"<text><![CDATA[{text}]]></text>" if "]]>" not in text else f"<text>{escape(text)}</text>"


def _plugin_links(text: str) -> tuple[str, list[str]]:
    names = re.findall(r"\]\((?:\.\./)?media/([^)\s]+)\)", text)
    return re.sub(r"\]\((?:\.\./)?media/([^)\s]+)\)", lambda m: f"]({_PLUGINFILE}{m.group(1)})", text), names


def _rich(tag: str, text: str, media: dict, indent: str, attrs: str = "") -> list[str]:
    text, names = _plugin_links(text)
    lines = [f'{indent}<{tag}{attrs} format="markdown">', f"{indent}  {_cdata_text(text)}"]
    for name in dict.fromkeys(names):
        if name in media:
            data = base64.b64encode(media[name][1]).decode("ascii")
            lines.append(f'{indent}  <file name="{escape(name, {chr(34): "&quot;"})}" path="/" '
                         f'encoding="base64">{data}</file>')
    lines.append(f"{indent}</{tag}>")
    return lines


def _fraction(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".") if value else "0"


def _answer(fraction: float, text: str, feedback: str | None, media: dict, extra: list[str] | None = None,
            plain: bool = False) -> list[str]:
    lines = [f'    <answer fraction="{_fraction(fraction)}" format="{"moodle_auto_format" if plain else "markdown"}">',
             f"      {_cdata_text(text)}"]
    lines += [f"      {line}" for line in extra or []]
    lines += _rich("feedback", feedback or "", media, "      ")
    lines.append("    </answer>")
    return lines


def _question_lines(question: dict, media: dict, xml_tags: list[str]) -> list[str]:
    qtype = QUESTION_TYPES[question["type"]]
    lines = [f'  <question type="{qtype.moodle_qtype}">']
    meta = {key: question[key] for key in ("source", "difficulty", "critical") if key in question}
    if question.get("feedback") and not qtype.feedback_in_answers(question):
        meta["feedback"] = question["feedback"]
    meta.update(qtype.trainer_comment(question))
    if meta:
        # "--" may not appear inside an XML comment; JSON reads the escaped hyphen back.
        comment = json.dumps(meta, ensure_ascii=False).replace("--", "-\\u002d")
        lines.append(f"    <!-- trainer: {comment} -->")
    lines += ["    <name>", f"      {_cdata_text(question['id'])}", "    </name>"]
    lines += _rich("questiontext", question.get("stem", ""), media, "    ")
    lines += _rich("generalfeedback", question.get("explanation", ""), media, "    ")
    lines += ["    <defaultgrade>1</defaultgrade>", "    <penalty>0</penalty>", "    <hidden>0</hidden>",
              f"    <idnumber>{escape(question['id'])}</idnumber>"]
    lines += qtype.to_moodle_xml(question, _QuestionWriter(media))
    if xml_tags:
        lines += ["    <tags>"] + [f"      <tag>{_cdata_text(t)}</tag>" for t in xml_tags] + ["    </tags>"]
    lines.append("  </question>")
    return lines


def _number_text(value: float | int) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class _QuestionWriter:
    """Moodle XML's elements for one question, handed to its type (trainer.quiz.types.MoodleXmlWriter)."""

    cdata = staticmethod(_cdata_text)
    number = staticmethod(_number_text)

    def __init__(self, media: dict):
        self.media = media

    def answer(self, fraction: float, text: str, feedback: str | None, extra: list[str] | None = None,
               plain: bool = False) -> list[str]:
        return _answer(fraction, text, feedback, self.media, extra, plain)

    @staticmethod
    def escape(text: str) -> str:
        return escape(text)


def write_moodle_xml(questions: list[dict], media: dict[str, tuple[str, bytes]] | None = None) -> str:
    """Write questions as Moodle XML; images a text shows from the course media are embedded.

    Raises ValueError naming the first question Moodle XML cannot hold."""
    for question in questions:
        reason = moodle_xml_unsupported(question)
        if reason:
            raise ValueError(f"question {question.get('id')!r}: {reason}")
    media = media or {}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>",
             "<!-- Exported by trainer. 'trainer:' comments keep what Moodle XML cannot say. -->"]
    category: list[str] = []
    for question in questions:
        # The first tag travels as Moodle's category (which our reader turns back into a tag), the rest as tags.
        tags = list(question.get("tags", []))
        wanted = tags[:1] if tags and _category_safe(tags[0]) else []
        if wanted != category:
            category = wanted
            path = "$course$/top" + (f"/{escape(wanted[0])}" if wanted else "")
            lines += ['  <question type="category">', "    <category>", f"      <text>{path}</text>",
                      "    </category>", "  </question>"]
        lines += _question_lines(question, media, tags[len(category):])
    lines.append("</quiz>")
    return "\n".join(lines) + "\n"
