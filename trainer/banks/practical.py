"""The `practical` section of course.yaml: DOPS checklists and logbook requirements.

`check_practical` turns the section into a plain dict (stored on the course) or reports
`path:line: message` problems; it never touches the database.
"""
from __future__ import annotations

import re

from trainer.banks.records import BankProblem
from trainer.banks.yaml_bank import child_node, mapping_key_lines

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
LOGBOOK_KEYS = {"min_cases", "min_indications", "min_observed", "indications"}
RENEWAL_KEYS = {"observed_cases"}
COMPETENCY_KEYS = {"id", "title", "checklist"}
STEP_KEYS = {"id", "step", "module", "sources"}


def _is_int(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _line(node) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def check_practical(data, node, path: str, module_slugs: set[str], source_keys: set[str] | None,
                    ) -> tuple[dict | None, list[BankProblem]]:
    """Validate the section; return (normalised dict, []) or (None, problems)."""
    problems: list[BankProblem] = []

    def add(line: int, message: str) -> None:
        problems.append(BankProblem(path, line, message))

    here = _line(node)
    if not isinstance(data, dict):
        add(here, "practical must be a mapping with 'competencies' and 'logbook'")
        return None, problems
    lines = mapping_key_lines(node)
    for key in data:
        if key not in ("competencies", "logbook", "renewal"):
            add(lines.get(key, here), f"unknown practical key '{key}'")

    logbook = data.get("logbook")
    lb_node = child_node(node, "logbook")
    lb_lines = mapping_key_lines(lb_node)
    normal_logbook = {}
    if not isinstance(logbook, dict):
        add(lines.get("logbook", here),
            "practical needs a 'logbook' mapping (min_cases, min_indications, min_observed)")
    else:
        for key in logbook:
            if key not in LOGBOOK_KEYS:
                add(lb_lines.get(key, _line(lb_node)), f"unknown logbook key '{key}'")
        for key, low in (("min_cases", 1), ("min_indications", 1), ("min_observed", 0)):
            if key not in logbook:
                add(_line(lb_node), f"logbook is missing '{key}'")
            elif not _is_int(logbook[key], low, 500):
                add(lb_lines.get(key, _line(lb_node)), f"{key} must be a whole number from {low} to 500")
            else:
                normal_logbook[key] = logbook[key]
        indications = logbook.get("indications", [])
        if not (isinstance(indications, list) and all(isinstance(i, str) and ID_PATTERN.match(i) for i in indications)):
            add(lb_lines.get("indications", _line(lb_node)),
                "indications must be a list of lower-case names (letters, digits, '-')")
            indications = []
        elif len(set(indications)) != len(indications):
            add(lb_lines.get("indications", _line(lb_node)), "an indication is listed twice")
        normal_logbook["indications"] = list(indications)
        if len(normal_logbook) == 4:
            if normal_logbook["min_observed"] > normal_logbook["min_cases"]:
                add(lb_lines["min_observed"], "min_observed cannot be more than min_cases")
            if normal_logbook["min_indications"] > normal_logbook["min_cases"]:
                add(lb_lines["min_indications"], "min_indications cannot be more than min_cases")
            if indications and normal_logbook["min_indications"] > len(indications):
                add(lb_lines["min_indications"], "min_indications is more than the indications listed")

    renewal = data.get("renewal", {"observed_cases": 0})
    rn_node = child_node(node, "renewal")
    if not (isinstance(renewal, dict) and set(renewal) <= RENEWAL_KEYS
            and _is_int(renewal.get("observed_cases", 0), 0, 100)):
        add(lines.get("renewal", here), "renewal may only set observed_cases (0 to 100)")
        renewal = {}
    del rn_node

    competencies = data.get("competencies")
    comps_node = child_node(node, "competencies")
    normal_comps = []
    if not isinstance(competencies, list) or not competencies:
        add(lines.get("competencies", here), "practical needs a list of competencies")
        competencies = []
    seen_comp = set()
    for comp, comp_node in zip(competencies, getattr(comps_node, "value", []), strict=False):
        cline = _line(comp_node)
        if not isinstance(comp, dict):
            add(cline, "each competency must be a mapping with id, title and checklist")
            continue
        clines = mapping_key_lines(comp_node)
        for key in comp:
            if key not in COMPETENCY_KEYS:
                add(clines.get(key, cline), f"unknown competency key '{key}'")
        cid = comp.get("id")
        if not (isinstance(cid, str) and ID_PATTERN.match(cid)):
            add(clines.get("id", cline), "competency id must be lower-case letters, digits and '-'")
        elif cid in seen_comp:
            add(clines.get("id", cline), f"competency id '{cid}' is used twice")
        seen_comp.add(cid)
        if not (isinstance(comp.get("title"), str) and comp["title"].strip()):
            add(clines.get("title", cline), "competency needs a title")
        steps = comp.get("checklist")
        steps_node = child_node(comp_node, "checklist")
        if not isinstance(steps, list) or not steps:
            add(clines.get("checklist", cline), "competency needs a checklist of observable steps")
            steps = []
        seen_steps, normal_steps = set(), []
        for step, step_node in zip(steps, getattr(steps_node, "value", []), strict=False):
            sline = _line(step_node)
            if not isinstance(step, dict):
                add(sline, "each checklist step must be a mapping with id, step and module")
                continue
            slines = mapping_key_lines(step_node)
            for key in step:
                if key not in STEP_KEYS:
                    add(slines.get(key, sline), f"unknown checklist key '{key}'")
            sid = step.get("id")
            if not (isinstance(sid, str) and ID_PATTERN.match(sid)):
                add(slines.get("id", sline), "step id must be lower-case letters, digits and '-'")
            elif sid in seen_steps:
                add(slines.get("id", sline), f"step id '{sid}' is used twice in this checklist")
            seen_steps.add(sid)
            if not (isinstance(step.get("step"), str) and step["step"].strip()):
                add(slines.get("step", sline), "checklist step needs the 'step' to observe")
            # Traceability: every step names the module that teaches it.
            if step.get("module") not in module_slugs:
                add(slines.get("module", sline),
                    f"step must name the module that teaches it (one of {', '.join(sorted(module_slugs))})")
            cited = step.get("sources", [])
            if not (isinstance(cited, list) and all(isinstance(s, str) for s in cited)):
                add(slines.get("sources", sline), "sources must be a list of source keys")
                cited = []
            elif source_keys is not None and (unknown := [s for s in cited if s not in source_keys]):
                add(slines.get("sources", sline), f"source {', '.join(unknown)} is not listed in course.yaml 'sources'")
            normal_steps.append({"id": sid, "step": str(step.get("step", "")).strip(), "module": step.get("module"),
                                 "sources": list(cited)})
        normal_comps.append({"id": cid, "title": str(comp.get("title", "")).strip(), "checklist": normal_steps})
    if problems:
        return None, problems
    return {"logbook": normal_logbook, "renewal": {"observed_cases": renewal.get("observed_cases", 0)},
            "competencies": normal_comps}, []
