"""Reads tests/cases/query/*.txt: the filter cases shared by the Python and JavaScript parsers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent.parent / "cases" / "query"


@dataclass
class QueryCase:
    file: str
    title: str
    query: str
    match: list[str] | None = None      # names of the rows that match
    error: tuple[int, str] | None = None  # (position, message)


def load_cases() -> tuple[list[dict], list[QueryCase]]:
    """All rows and cases; every file's rows must use distinct names."""
    rows: list[dict] = []
    cases: list[QueryCase] = []
    for path in sorted(CASES_DIR.glob("*.txt")):
        section = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("## rows"):
                section = "rows"
            elif line.startswith("## case:"):
                section = "case"
                cases.append(QueryCase(path.name, line[len("## case:"):].strip(), ""))
            elif not line.strip() or line.startswith("#"):
                continue
            elif section == "rows":
                rows.append(json.loads(line))
            elif section == "case":
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                case = cases[-1]
                if field == "query":
                    case.query = value.rstrip()
                elif field == "match":
                    names = value.strip()
                    case.match = [] if names == "-" else [n.strip() for n in names.split(",")]
                elif field == "error":
                    pos, _, message = value.partition(": ")
                    case.error = (int(pos), message)
                else:
                    raise ValueError(f"{path.name}: unknown field {field!r} in {case.title!r}")
    return rows, cases
