"""The run page's CSV is made in the browser (themes/default/static/csv-export.js) from the site's
copy of metrics.jsonl; it must be byte for byte what ``build.metrics_csv(run)`` (the reference)
writes. The cases in tests/cases/csv pin both to a file; the reader's cases and a seeded batch
of generated hostile files hold the JS to the reference, with both of the reader's parsers."""
from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from runpages.sitegen import limits, reader
from runpages.sitegen.build import metrics_csv
from tests.reader.test_cases import parse_case as parse_reader_case

CASES = Path(__file__).resolve().parents[1] / "cases"
CLI = Path(__file__).resolve().parents[1] / "js" / "csv_cli.js"
NOW = 1764000000.0
FINISHED = {"format_version": 1, "id": "r", "status": "finished", "started_at": 1763990000,
            "ended_at": 1763999000}
ENDED = ("finished", "crashed", "killed")
NO_NEWLINE = "\\ No newline at end of file"


def parse_csv_case(path: Path) -> tuple[str, dict[str, str]]:
    title, files, current, lines = "", {}, None, []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("title:") and current is None:
            title = line[len("title:"):].strip()
        elif line.startswith("--- "):
            if current is not None:
                files[current] = "".join(lines)
            current, lines = line[4:].strip(), []
        elif line.rstrip("\n") == NO_NEWLINE:
            lines[-1] = lines[-1].rstrip("\n")
        else:
            lines.append(line)
    files[current] = "".join(lines)
    return title, files


def write_run(root: Path, files: dict[str, bytes | str]) -> Path:
    run_dir = root / "p" / "r"
    run_dir.mkdir(parents=True)
    files = {"meta.json": json.dumps(FINISHED), **files}
    for name, data in files.items():
        (run_dir / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return run_dir


def reference_csv(run_dir: Path, parser: str, monkeypatch) -> bytes | None:
    """metrics_csv of the run as the build reads it; None when the run has no metrics (no CSV)."""
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0 if parser == "fast-path" else 1 << 40)
    run, _ = reader.read_run(run_dir, now=NOW)
    if run is None or not len(run.metrics):
        return None
    return metrics_csv(run)


def ended(run_dir: Path) -> bool:
    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("status") in ENDED


def browser_csvs(run_dirs: list[Path]) -> list[bytes]:
    """What csv-export.js makes of each run's metrics.jsonl (one node process for them all)."""
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is needed (Debian: apt-get install nodejs; .ci/run installs it)"
    jobs = [{"path": str(d / "metrics.jsonl"), "ended": ended(d), "maxLine": limits.MAX_LINE_BYTES,
             "maxBytes": limits.MAX_JSONL_BYTES} for d in run_dirs]
    done = subprocess.run([node, str(CLI)], input=json.dumps(jobs), capture_output=True,
                          text=True, encoding="utf-8", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [text.encode("utf-8") for text in json.loads(done.stdout)]


CSV_CASES = sorted((CASES / "csv").glob("*.case"))


@pytest.mark.parametrize("path", CSV_CASES, ids=lambda p: p.stem)
@pytest.mark.parametrize("parser", ["line-by-line", "fast-path"])
def test_the_reference_csv_is_the_case_file(path, parser, tmp_path, monkeypatch):
    title, files = parse_csv_case(path)
    want = files.pop("expected.csv").encode("utf-8")
    got = reference_csv(write_run(tmp_path, files), parser, monkeypatch)
    assert got == want, title


def test_the_browser_csv_is_the_case_file(tmp_path):
    dirs, wants = [], []
    for i, path in enumerate(CSV_CASES):
        _, files = parse_csv_case(path)
        wants.append(files.pop("expected.csv").encode("utf-8"))
        dirs.append(write_run(tmp_path / str(i), files))
    for path, got, want in zip(CSV_CASES, browser_csvs(dirs), wants):
        assert got == want, path.name


@pytest.mark.parametrize("parser", ["line-by-line", "fast-path"])
def test_the_browser_csv_equals_metrics_csv_for_every_reader_case(parser, tmp_path, monkeypatch):
    dirs, refs, names = [], [], []
    for i, path in enumerate(sorted((CASES / "reader").glob("*.case"))):
        _, files, _ = parse_reader_case(path)
        if "metrics.jsonl" not in files:
            continue
        run_dir = tmp_path / str(i) / "p" / "r"
        run_dir.mkdir(parents=True)
        for name, text in files.items():
            (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / name).write_text(text, encoding="utf-8")
        ref = reference_csv(run_dir, parser, monkeypatch)
        if ref is not None:
            dirs.append(run_dir), refs.append(ref), names.append(path.stem)
    assert len(dirs) >= 8
    for name, got, ref in zip(names, browser_csvs(dirs), refs):
        assert got == ref, name


# ---------------------------------------------------------------------------------------------
# Generated files: every kind of value, key and damage the reader knows, seeded
# ---------------------------------------------------------------------------------------------

# As written in the JSON text (escapes included: a pair for an emoji, a lone surrogate).
KEYS = ['"loss"', '"val/acc"', '"train/lr"', '"Verlust"', '"损失"', '"😀"', '"a,b"', '"q\\"uote"', '"nan"',
        '"line\\nbreak"', '"0"', '"7"', '"12"', '"__proto__"', '""', '" sp ace"', '"\\ud83d\\ude00"',
        '"\\udc00x"', '"\\ud800"', '"\\ufffd"']


def _number(rng: random.Random) -> str:
    kind = rng.randrange(14)
    if kind == 0:
        return str(rng.randrange(-10**6, 10**6))
    if kind == 1:
        return str(rng.randrange(-2**70, 2**70))
    if kind == 2:
        return repr(rng.uniform(-1, 1) * 10 ** rng.randrange(-320, 309))
    if kind == 3:
        return rng.choice(['"NaN"', '"Infinity"', '"-Infinity"', "NaN", "Infinity", "-Infinity"])
    if kind == 4:
        return rng.choice(["true", "false", "null", "-0", "-0.0", "0.0", "1e400", "-1e400", "1E5"])
    if kind == 5:
        return rng.choice(['"text"', '"3"', "[1, 2]", "{}", '"\\ud800"', '""'])
    if kind == 6:
        return "1" * rng.choice([307, 308, 309])
    if kind == 7:
        return f"{rng.randrange(10 ** 9)}.{rng.randrange(10 ** 6)}"
    if kind == 8:
        return repr(float(rng.randrange(1, 10 ** rng.randrange(1, 17))) * 10 ** rng.randrange(-8, 14))
    return repr(round(rng.gauss(0, 1) * 10 ** rng.randrange(-7, 11), rng.randrange(0, 12)))


def _line(rng: random.Random, step: int) -> str:
    kind = rng.randrange(40)
    if kind == 0:
        return rng.choice(["not json", "[1, 2]", "", "   ", '{"_step": 1,', "\ufeff{\"_step\": 1}",
                           '"str"', '{"_step": 2}}', "{'_step': 3}"])
    fields = {}
    if kind != 1:
        fields['"_step"'] = rng.choice([str(step)] * 12 + [f"{step}.7", f'"{step}"', "null", '"NaN"',
                                       "1e20", str(step - 3), "-4", "true", "9007199254740993"])
    if rng.random() < 0.8:
        fields['"_time"'] = rng.choice([repr(1763990000 + step * 0.37), '"NaN"', "null", str(step)])
    for key in rng.sample(KEYS, rng.randrange(0, 6)):
        fields[key] = _number(rng)
    if rng.random() < 0.1:
        fields['"nest"'] = '{"a": %s, "b": {"c": %s}, "d": {}}' % (_number(rng), _number(rng))
    if rng.random() < 0.03:
        fields['"deep"'] = "[" * 70 + "]" * 70
    items = list(fields.items())
    rng.shuffle(items)
    if rng.random() < 0.05 and items:
        items.append(items[0])            # a key written twice
    return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"


def _file(rng: random.Random, clean: bool) -> bytes:
    lines, step = [], 0
    for _ in range(rng.randrange(1, 60)):
        step += rng.choice([1, 1, 1, 0, 2, -1, 5])
        lines.append(_line(rng, step) if not clean else
                     json.dumps({"_step": step, "_time": 1763990000 + step, "loss": rng.random(),
                                 "tokens": rng.randrange(2 ** 60)}))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    end = rng.randrange(4)
    if end == 0:
        data += b"\n"
    elif end == 1:
        data += b"\n\xff\xfe not utf-8\n"
    return data


@pytest.mark.parametrize("parser", ["line-by-line", "fast-path"])
def test_the_browser_csv_equals_metrics_csv_for_generated_hostile_files(parser, tmp_path, monkeypatch):
    rng = random.Random(20261202)
    dirs, refs = [], []
    for i in range(160):
        status = rng.choice(["finished", "running", "crashed"])
        meta = dict(FINISHED, status=status)
        run_dir = write_run(tmp_path / str(i), {"meta.json": json.dumps(meta),
                                                "metrics.jsonl": _file(rng, clean=i % 8 == 0)})
        ref = reference_csv(run_dir, parser, monkeypatch)
        if ref is not None:
            dirs.append(run_dir), refs.append(ref)
    assert len(dirs) > 100
    for run_dir, got, ref in zip(dirs, browser_csvs(dirs), refs):
        assert got == ref, (run_dir / "metrics.jsonl").read_bytes()[:3000]


def test_lines_past_the_line_cap_are_skipped_in_the_browser_too(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 1024)
    monkeypatch.setattr(limits, "BLOCK_BYTES", 512)
    lines = [json.dumps({"_step": s, "loss": s / 10, "note": "x" * (2000 if s == 3 else 1)})
             for s in range(40)]
    run_dir = write_run(tmp_path, {"metrics.jsonl": "\n".join(lines) + "\n"})
    ref = reference_csv(run_dir, "line-by-line", monkeypatch)
    assert b"\n3," not in ref and b"\n4," in ref
    assert browser_csvs([run_dir]) == [ref]


def test_float_spelling_matches_pyarrow_for_many_magnitudes(tmp_path, monkeypatch):
    rng = random.Random(7)
    values = [rng.uniform(0.5, 10) * 10.0 ** e for e in range(-320, 308) for _ in range(3)]
    values += [float(2 ** k) for k in range(-60, 70)] + [math.ulp(0.0), 1 - 2 ** -53, 2 ** 53 + 2.0]
    lines = [json.dumps({"_step": i, "v": -v if i % 2 else v}) for i, v in enumerate(values)]
    run_dir = write_run(tmp_path, {"metrics.jsonl": "\n".join(lines) + "\n"})
    ref = reference_csv(run_dir, "fast-path", monkeypatch)
    assert browser_csvs([run_dir]) == [ref]
