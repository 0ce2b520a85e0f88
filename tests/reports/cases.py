"""Report case files: ``tests/cases/markdown/*.case`` (see the README there)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "markdown"


@dataclass
class Case:
    name: str
    title: str
    files: dict[str, str] = field(default_factory=dict)    # path under reports/ -> text
    expected: dict = field(default_factory=dict)


def load_case(path: Path) -> Case:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines and lines[0].startswith("title:"), f"{path}: first line must be 'title: ...'"
    case = Case(path.stem, lines[0][len("title:"):].strip())
    current = None
    for line in lines[1:]:
        if line.startswith("--- ") and line.strip() != "---":
            current = line[4:].strip()
            case.files[current] = ""
        elif current is not None:
            case.files[current] += line
    case.expected = json.loads(case.files.pop("expected"))
    return case


def load_cases() -> list[Case]:
    return [load_case(p) for p in sorted(CASES_DIR.glob("*.case"))]


def load_fixture(path: Path) -> list[tuple[str, str, str]]:
    """markdown-it's fixture format: a title line, then ``.`` input ``.`` output ``.``."""
    out, title, buf, parts = [], "", [], []
    state = "title"
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.rstrip("\n") == ".":
            if state == "title":
                state, buf = "input", []
            elif state == "input":
                parts, buf, state = ["".join(buf)], [], "output"
            else:
                out.append((title.strip() or f"case {len(out) + 1}", parts[0], "".join(buf)))
                state, title = "title", ""
            continue
        if state == "title":
            if line.strip() and not line.startswith("#"):
                title = line
        else:
            buf.append(line)
    return out
