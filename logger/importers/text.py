"""Plain-text training logs: the stdout that many training scripts print.

A line is a metrics line when it holds a step (``step``, ``iter``, ``iteration``,
``global_step``, ``it``) with an integer and at least one other ``key<sep>number`` pair, where
``<sep>`` is ``:``, ``=`` or spaces: ``step:120/5000 val_loss:3.41 train_time:1234ms``,
``step 120 | loss: 3.41 | lr 6e-4``, ``iter 120: loss=3.41``. Every other line (banners,
nvidia-smi tables, tracebacks, progress bars) is free text and skipped. A unit glued to a
number stays in the key (``train_time:1234ms`` → ``train_time_ms``; ``%`` → ``_pct``);
``step:120/5000`` is step 120 of 5000 (``total_steps`` in the config; ``epoch 3/10`` is
epoch 3). ``--pattern REGEX`` replaces this: its named groups are the values (``step`` is
the step; without it lines are counted).
The log has no times: the file's mtime stands in. The whole text is kept as ``console.log``.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

from .common import Imported, Problem, parse_number, read_text, walk_files

FORMAT = "text"
_STEP_KEYS = ("step", "iter", "iteration", "global_step", "it")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|inf|Inf)"
_PAIR = re.compile(
    r"(?<![\w./-])(?P<key>[A-Za-z_][\w./-]*?)\s*(?:[:=]\s*|\s+)"
    r"(?P<value>" + _NUMBER + r")(?:/(?P<total>\d+))?(?P<unit>[A-Za-z%]{1,4})?(?![\w.])")
_EXTENSIONS = (".txt", ".log", ".out", ".stdout")
_SNIFF_LINES = 8000   # fewer than 3 metrics lines among the first this many: not a log


def parse_line(line: str) -> tuple[int | None, int | None, dict]:
    """``(step, total, values)`` of one line; ``step`` is None for free text."""
    step, total, values = None, None, {}
    for m in _PAIR.finditer(line):
        key, unit = m.group("key"), m.group("unit")
        value = parse_number(m.group("value"))
        if key.lower() in _STEP_KEYS and step is None and isinstance(value, int) and not unit:
            step = value
            if m.group("total"):
                total = int(m.group("total"))
            continue
        if unit:
            key = f"{key}_{'pct' if unit == '%' else unit.lower()}"
        values[key] = value
    if step is None or not values:
        return None, None, {}
    return step, total, values


def _looks_like_log(path: str) -> bool:
    hits = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if i >= _SNIFF_LINES:
                    break
                if parse_line(line)[0] is not None:
                    hits += 1
                    if hits >= 3:
                        return True
    except OSError:
        return False
    return False


def _files(source: str, need_sniff: bool = True) -> list[str]:
    if os.path.isfile(source):
        return [source] if (not need_sniff or _looks_like_log(source)) else []
    return [p for p in walk_files(source)
            if p.endswith(_EXTENSIONS) and (not need_sniff or _looks_like_log(p))]


def detect(path: str) -> bool:
    return bool(_files(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    regex = re.compile(pattern) if pattern else None
    for path in _files(source, need_sniff=regex is None):
        yield read_file(path, regex)


def read_file(path: str, regex: re.Pattern | None = None) -> Imported:
    name = os.path.splitext(os.path.basename(path))[0]
    imp = Imported(format=FORMAT, source=path, name=name, hash_files=[path])
    text = read_text(path, imp)
    if text is None:
        return imp
    imp.console = text
    counted = 0
    undecodable = text.count("\ufffd")
    if undecodable:
        imp.problems.append(Problem(path, None, f"{undecodable} bytes are not UTF-8 and were "
                                    "replaced; lines holding them may have lost values"))
    for lineno, line in enumerate(text.splitlines(), start=1):
        if regex is not None:
            m = regex.search(line)
            if not m:
                continue
            groups = {k: v for k, v in m.groupdict().items() if v is not None}
            step_text = groups.pop("step", None)
            step = parse_number(step_text) if step_text is not None else counted
            if not isinstance(step, int):
                imp.problems.append(Problem(path, lineno, f"step {step_text!r} is not an "
                                            "integer; line skipped"))
                continue
            counted += 1
            imp.add(step, None, {k: parse_number(v) for k, v in groups.items()})
            continue
        step, total, values = parse_line(line)
        if step is None:
            continue
        if total is not None:
            imp.config.setdefault("total_steps", total)
        imp.add(step, None, values)
    if regex is not None and not imp.records:
        imp.problems.append(Problem(path, None, f"--pattern {regex.pattern!r} matched no line"))
    return imp
