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
The log has no times: the file's mtime stands in. The text is kept as ``console.log``.

Files: in a folder, those ending ``.txt``, ``.log``, ``.out``, ``.err``, ``.stdout``, ``.md``
(stdout pasted into Markdown; code fences are just free text) and text files without an extension
(``slurm-123``), each sniffed for at least 3 metrics lines; a file named on the command line
is sniffed whatever its name. With ``--pattern``, a file the pattern matches nowhere is no run.

Sessions: a log that a re-started (or resumed) script appended to holds several runs. When a
step is lower than the step before it, a new session starts, and each session is its own run
(``train (session 2)``), with the lines from just after the previous session's last metrics
line (a traceback that ends the previous session stays with it) as its console. One exception:
steps that restart while an ``epoch`` value goes up count within the epoch, so they are made to
run on (epoch 2's step 0 follows epoch 1's last step) and the run stays one. A session whose
console ends in a Python traceback is ``crashed``, with the exception line as the reason.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

from .. import schema
from .common import Imported, Problem, parse_number, read_text, traceback_reason, walk_files

FORMAT = "text"
_STEP_KEYS = ("step", "iter", "iteration", "global_step", "it")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|inf|Inf)"
_PAIR = re.compile(
    r"(?<![\w./-])(?P<key>[A-Za-z_][\w./-]*?)\s*(?:[:=]\s*|\s+)"
    r"(?P<value>" + _NUMBER + r")(?:/(?P<total>\d+))?(?P<unit>[A-Za-z%]{1,4})?(?![\w.])")
_EXTENSIONS = (".txt", ".log", ".out", ".err", ".stdout", ".md", ".markdown")
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


def _is_text_without_extension(path: str) -> bool:
    if os.path.splitext(os.path.basename(path))[1]:
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return bool(head) and b"\0" not in head


def _candidates(source: str) -> list[str]:
    if os.path.isfile(source):
        return [source]
    return [p for p in walk_files(source)
            if p.lower().endswith(_EXTENSIONS) or _is_text_without_extension(p)]


def _files(source: str) -> list[str]:
    return [p for p in _candidates(source) if _looks_like_log(p)]


def detect(path: str) -> bool:
    return bool(_files(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    """One run per session of each log file (see the module docstring); with ``pattern``, of
    each file it matches somewhere."""
    regex = re.compile(pattern) if pattern else None
    for path in (_candidates(source) if regex is not None else _files(source)):
        imp, lines = _read(path, regex)
        if regex is not None and not imp.records:
            continue                # the pattern matched nothing here: not a run
        yield from split_sessions(imp, lines)


def read_file(path: str, regex: re.Pattern | None = None) -> Imported:
    """The whole file as one run (sessions not split)."""
    return _read(path, regex)[0]


def _read(path: str, regex: re.Pattern | None) -> tuple[Imported, list[int]]:
    """The whole file as one run, and the line number of each of its records."""
    name = os.path.splitext(os.path.basename(path))[0]
    imp = Imported(format=FORMAT, source=path, name=name, hash_files=[path])
    text = read_text(path, imp)
    if text is None:
        return imp, []
    imp.console = text
    counted = 0
    undecodable = text.count("\ufffd")
    if undecodable:
        imp.problems.append(Problem(path, None, f"{undecodable} bytes are not UTF-8 and were "
                                    "replaced; lines holding them may have lost values"))
    lines: list[int] = []
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
            values = {k: parse_number(v) for k, v in groups.items()}
        else:
            step, total, values = parse_line(line)
            if step is None:
                continue
            if total is not None:
                imp.config.setdefault("total_steps", total)
        if values:
            imp.add(step, None, values)
            lines.append(lineno)
    return imp, lines


def _epoch(values: dict) -> float | None:
    v = next((v for k, v in values.items() if k.lower() == "epoch"), None)
    return v if isinstance(v, (int, float)) else None


def _session_starts(records: list) -> list[int]:
    """Indexes of the records that start a session; steps of epoch-local counters are made
    to run on, in place."""
    starts, offset, prev_step, prev_epoch = [0], 0, None, None
    for i, (step, time, values) in enumerate(records):
        epoch = _epoch(values)
        if prev_step is not None and step + offset < prev_step:
            if epoch is not None and prev_epoch is not None and epoch > prev_epoch:
                offset = prev_step + 1 - step
            else:
                starts.append(i)
                offset = 0
        records[i] = (step + offset, time, values)
        prev_step = step + offset
        prev_epoch = epoch if epoch is not None else prev_epoch
    return starts


def _boundary(lines: list[str], after: int, before: int) -> int:
    """Where the console of the session whose last metrics line is ``after`` (0-based) ends,
    before line ``before``: just after ``after``, or after a traceback that follows it."""
    for i in range(after + 1, before):
        if lines[i].startswith("Traceback (most recent call last):"):
            for j in range(i + 1, before):
                if lines[j] and not lines[j].startswith((" ", "\t")):
                    return j + 1
            return before
    return after + 1


def split_sessions(imp: Imported, lines_of: list[int]) -> list[Imported]:
    """One run per session (a step lower than the one before starts one); ``lines_of``: the
    line number of each record."""
    starts = _session_starts(imp.records)
    text = imp.console or ""
    if len(starts) == 1:
        _mark_crash(imp)
        return [imp]
    lines = text.splitlines(keepends=True)
    ends = starts[1:] + [len(imp.records)]
    cuts = [0] + [_boundary(lines, lines_of[e - 1] - 1, lines_of[e] - 1) for e in ends[:-1]]
    cuts.append(len(lines))
    out = []
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        part = Imported(format=FORMAT, source=imp.source, name=f"{imp.name} (session {k + 1})",
                        hash_files=imp.hash_files, config=dict(imp.config),
                        records=imp.records[a:b], console="".join(lines[cuts[k]:cuts[k + 1]]),
                        part=None if k == 0 else f"session {k + 1}",
                        problems=list(imp.problems) if k == 0 else [])
        _mark_crash(part)
        out.append(part)
    return out


def _mark_crash(imp: Imported) -> None:
    reason = traceback_reason(imp.console or "")
    if reason:
        imp.status, imp.reason = schema.CRASHED, reason
