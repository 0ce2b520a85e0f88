"""Seeded mutations of a valid run folder, one at a time: a field given a hostile value (types,
ranges, encodings, nesting, markup), a file truncated, bytes flipped. ``cases(seed)`` yields
``Case``s forever; ``test_fuzz.py`` builds a site for each within a time budget.

Run it alone for more cases: ``python tests/hostile/fuzz.py --cases 2000 --seed 7``.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from runpages import schema

MARKUP = "<script>alert('runpages-fuzz')</script>"

# Hostile JSON values, as JSON text (so lone surrogates and huge numbers can be spelled).
VALUES = [
    "null", "true", "false", "-1", "0", "1e308", "-1e308", "1e20", "9007199254740993",
    "18446744073709551616", "1" + "0" * 400, '"NaN"', '"Infinity"', '""', '"x"',
    '"' + "y" * 5000 + '"', "[]", "{}", "[1, [2, [3]]]", '{"a": {"b": {"c": 1}}}',
    "[" * 800 + "]" * 800, '{"a":' * 800 + "1" + "}" * 800, '"\\ud800"', '"a\\udfffb"',
    '"\\ud83d\\ude00"', json.dumps(MARKUP), '"\\u0000"', '"../../etc/passwd"', "-0.0",
]
JSON_FILES = (schema.META_FILE, schema.CONFIG_FILE, schema.SUMMARY_FILE)
JSONL_FILES = (schema.METRICS_FILE, schema.SYSTEM_FILE)


@dataclass
class Case:
    name: str                                   # what was done, for a failure message
    mutate: Callable[[Path], None]              # applied to a copy of the run folder
    must_report: bool                           # whether the run must get a Problem


def _set_field(file: str, key: str, value: str, line: int | None) -> Callable[[Path], None]:
    """Replace ``key``'s value by ``value`` (JSON text) in a JSON file or one JSONL line."""
    def mutate(run: Path) -> None:
        path = run / file
        if line is None:
            obj = json.loads(path.read_text())
            obj[key] = "\x00PLACEHOLDER\x00"
            path.write_text(json.dumps(obj).replace('"\\u0000PLACEHOLDER\\u0000"', value))
            return
        lines = path.read_text().splitlines()
        obj = json.loads(lines[line])
        obj[key] = "\x00PLACEHOLDER\x00"
        lines[line] = json.dumps(obj).replace('"\\u0000PLACEHOLDER\\u0000"', value)
        path.write_text("\n".join(lines) + "\n")
    return mutate


def _set_key(file: str, key_text: str, line: int) -> Callable[[Path], None]:
    """Add a key spelled ``key_text`` (JSON string text) to one JSONL line."""
    def mutate(run: Path) -> None:
        path = run / file
        lines = path.read_text().splitlines()
        lines[line] = lines[line].rstrip("}") + f", {key_text}: 1}}"
        path.write_text("\n".join(lines) + "\n")
    return mutate


def _truncate(file: str, at: float) -> Callable[[Path], None]:
    def mutate(run: Path) -> None:
        path = run / file
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * at)])
    return mutate


def _flip(file: str, positions: list[float], rng_bytes: bytes) -> Callable[[Path], None]:
    def mutate(run: Path) -> None:
        path = run / file
        data = bytearray(path.read_bytes())
        for p, b in zip(positions, rng_bytes):
            if data:
                data[int(p * (len(data) - 1))] = b
        path.write_bytes(bytes(data))
    return mutate


def _reports(value: str) -> bool:
    """Whether putting ``value`` in a checked place must produce a Problem."""
    return value.startswith(("[" * 100, '{"a":' * 100)) or "\\ud800" in value or "\\udfff" in value


def cases(seed: int, n_lines: int = 50) -> Iterator[Case]:
    rng = random.Random(seed)
    meta_keys = ["name", "project", "tags", "user", "started_at", "ended_at", "gpu", "git",
                 "command", "status", "notes", "format_version", "cpu_count", "heartbeat_at"]
    while True:
        kind = rng.random()
        value = rng.choice(VALUES)
        if kind < 0.25:
            key = rng.choice(meta_keys)
            must = _reports(value) or (key == "started_at" and value in ("1e20", "1e308", '"x"'))
            yield Case(f"meta.json {key} = {value[:40]}", _set_field(schema.META_FILE, key, value, None), must)
        elif kind < 0.4:
            file = rng.choice((schema.CONFIG_FILE, schema.SUMMARY_FILE))
            key = rng.choice(["lr", "model", "new/key", MARKUP])
            yield Case(f"{file} {key} = {value[:40]}", _set_field(file, key, value, None), _reports(value))
        elif kind < 0.65:
            file = rng.choice(JSONL_FILES)
            line = rng.randrange(3 if file == schema.SYSTEM_FILE else n_lines)
            key = rng.choice(["train/loss", "new", schema.STEP_KEY, schema.TIME_KEY])
            must = _reports(value) or (key == schema.STEP_KEY and file == schema.METRICS_FILE
                                       and value in ("null", '"x"', "1e20", "1e308", "[]", "{}"))
            yield Case(f"{file}:{line + 1} {key} = {value[:40]}", _set_field(file, key, value, line), must)
        elif kind < 0.72:
            file = rng.choice(JSONL_FILES)
            key = rng.choice(['"a\\ud800"', json.dumps(MARKUP), '"\\udc00/x"', '""'])
            yield Case(f"{file} key {key}", _set_key(file, key, 0), "\\ud" in key and "\\udc00/" != key)
        elif kind < 0.86:
            file = rng.choice(JSON_FILES + JSONL_FILES)
            at = rng.random()
            yield Case(f"{file} truncated at {at:.2f}", _truncate(file, at), False)
        else:
            file = rng.choice(JSON_FILES + JSONL_FILES)
            k = rng.randint(1, 8)
            yield Case(f"{file} {k} bytes flipped", _flip(file, [rng.random() for _ in range(k)],
                                                          bytes(rng.randrange(256) for _ in range(k))),
                       False)


if __name__ == "__main__":      # more cases than the test suite runs
    import argparse
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))     # for tests.* helpers
    from test_fuzz import run_cases

    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tried, held, failures = run_cases(Path(tmp), args.seed, args.cases, budget_s=1e9)
    print(f"{tried} cases tried, {held} held")
    for f in failures[:20]:
        print("FAILED:", f)
    sys.exit(1 if failures else 0)
