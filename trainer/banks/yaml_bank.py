"""Reading and writing the YAML files of a course folder (see docs/bank-format.md)."""
from __future__ import annotations

import yaml

from trainer.banks.records import BankProblem, ParsedQuestion

MAX_FILE_BYTES = 2 * 1024 * 1024
BANK_FORMAT = "trainer-bank/1"
#: Longest text one YAML value may hold (a stem, a summary, an explanation ...).
MAX_TEXT_CHARS = 20_000


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases: a few bytes of `*alias` can expand to gigabytes."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) and aliases (*name) are not allowed; write the text out",
                event.start_mark)
        return super().compose_node(parent, index)


def _overlong_scalar(node):
    """The first scalar longer than MAX_TEXT_CHARS in the node tree, or None."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            if len(current.value) > MAX_TEXT_CHARS:
                return current
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    return None


def _key_lines(node) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def load_yaml(text: str, path: str) -> tuple[object, yaml.Node | None, list[BankProblem]]:
    """Safely parse YAML (no object construction, no anchors or aliases, capped text); problems, not exceptions.

    Every YAML file of a course or bank is read through here.
    """
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        return None, None, [BankProblem(path, 1, f"file is larger than {MAX_FILE_BYTES // 1024} KiB")]
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
        long_text = _overlong_scalar(node) if node is not None else None
        if long_text is not None:
            return None, None, [BankProblem(path, long_text.start_mark.line + 1,
                                            f"text longer than {MAX_TEXT_CHARS:,} characters")]
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, None, [BankProblem(path, line, f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, None, [BankProblem(path, 1, f"not valid YAML: {exc}")]
    finally:
        loader.dispose()
    return data, node, []


def mapping_key_lines(node) -> dict[str, int]:
    """Line of each key of a YAML mapping node (for `path:line` problems)."""
    return _key_lines(node)


def child_node(node, key: str):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def parse_bank(text: str, path: str) -> tuple[list[ParsedQuestion], list[BankProblem]]:
    """Read a bank file into questions with line numbers; domain rules are checked elsewhere."""
    data, node, problems = load_yaml(text, path)
    if problems:
        return [], problems
    if not isinstance(data, dict):
        return [], [BankProblem(path, 1, "a bank must be a mapping with 'format' and 'questions'")]
    lines = _key_lines(node)
    for key in data:
        if key not in ("format", "questions"):
            problems.append(BankProblem(path, lines.get(key, 1), f"unknown key '{key}'"))
    if data.get("format") != BANK_FORMAT:
        problems.append(BankProblem(path, lines.get("format", 1), f"format must be '{BANK_FORMAT}'"))
    items = data.get("questions")
    items_node = child_node(node, "questions")
    if not isinstance(items, list):
        problems.append(BankProblem(path, lines.get("questions", 1), "'questions' must be a list"))
        return [], problems
    parsed = []
    for item, item_node in zip(items, items_node.value, strict=True):
        parsed.append(ParsedQuestion(item,
                                     item_node.start_mark.line + 1, path, _key_lines(item_node)))
    return parsed, problems


# Key order when writing, so exported files read like hand-written ones.
_KEY_ORDER = ["id", "type", "critical", "difficulty", "tags", "stem", "choices", "scoring", "answer",
              "pairs", "order", "answers", "explanation", "feedback", "source"]


class _BlockDumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def write_bank(questions: list[dict]) -> str:
    """Write questions as a bank file that parse_bank reads back to the same dicts."""
    ordered = [{k: q[k] for k in sorted(q, key=lambda k: (_KEY_ORDER + [k]).index(k))} for q in questions]
    return yaml.dump({"format": BANK_FORMAT, "questions": ordered}, Dumper=_BlockDumper,
                     sort_keys=False, allow_unicode=True, width=100)
