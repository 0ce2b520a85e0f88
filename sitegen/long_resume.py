"""Where a chunked read of a long metrics file stopped, so a file that grew is read on from
there (``sitegen.longread``): the file totals and every zoom level's open state, saved just
before the levels are closed.

Invariants:
- Saved as ``resume.json`` + ``resume.npz`` (numpy arrays, loaded with ``allow_pickle=False``)
  in the run's level folder, outside the site; nothing is unpickled or executed.
- Used only while the file is the same inode, is at least as long as the offset saved, and its
  bytes just before that offset are the ones saved; anything else (or a state that does not
  read back) means reading from the start.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from runpages.sitegen import readcache, zoom_levels
from runpages.sitegen.atomic import atomic_file, write_atomic
from runpages.sitegen.jsonl import Problem

STATE_FILE, ARRAYS_FILE = "resume.json", "resume.npz"
VERSION = 1


def _joined(parts):
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def save(folder: Path, totals, chain, offset: int, lines: int, tail_check: bytes, st) -> None:
    arrays: dict[str, np.ndarray] = {}
    names: list[str] = []            # metric names by index (array names stay plain ASCII)

    def put(prefix: str, points: dict) -> dict[str, int]:
        out = {}
        for key, (s, y) in points.items():
            if key not in names:
                names.append(key)
            i = names.index(key)
            arrays[f"{prefix}.{i}.s"], arrays[f"{prefix}.{i}.y"] = s, y
            out[str(i)] = len(s)
        return out

    levels = []
    for k, lv in enumerate(chain.levels):
        w = lv.writer
        levels.append({
            "width": lv.width, "buckets": lv.buckets,
            "writer": None if w is None else {"span": w.span, "tiles": w.tiles},
            "kept": put(f"k{k}", {key: _joined(v) for key, v in lv.kept.items()}),
            "pending": put(f"p{k}", lv.pending),
            "buf": put(f"b{k}", {key: _joined(v) for key, v in (w.buf.items() if w else ())}),
        })
    for key, v in totals.nan_at.items():
        if key not in names:
            names.append(key)
        arrays[f"nan.{names.index(key)}"] = np.concatenate(v)
    state = {
        "version": VERSION, "dev": st.st_dev, "ino": st.st_ino, "offset": offset, "lines": lines,
        "tail_check": tail_check.hex(), "names": names, "unit": chain.unit, "levels": levels,
        "problems": [[p.path, p.line, p.reason] for p in totals.problems],
        "text": totals.text, "text_first_line": totals.text_first_line,
        "last": {k: [s, v] for k, (s, v) in totals.last.items()}, "counts": totals.counts,
        "points": totals.points, "keys": list(totals.keys), "last_step": totals.last_step,
        "rows": totals.rows, "in_order": totals.in_order,
    }
    with atomic_file(folder / ARRAYS_FILE) as f:
        np.savez(f, **arrays)
    write_atomic(folder / STATE_FILE, json.dumps(state))


def load(folder: Path, path: Path, st, totals, folder_for_chain: Path):
    """(chain, offset, lines, tail_check) with ``totals`` filled in, or None when the saved
    state does not fit the file as it is now."""
    try:
        state = json.loads((folder / STATE_FILE).read_bytes())
        if state.get("version") != VERSION or (state["dev"], state["ino"]) != (st.st_dev, st.st_ino):
            return None
        offset, check = int(state["offset"]), bytes.fromhex(state["tail_check"])
        if st.st_size < offset or readcache._read_range(path, max(0, offset - len(check)), offset) != check:
            return None
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        names = state["names"]

        def get(prefix: str, saved: dict) -> dict:
            return {names[int(i)]: (arrays[f"{prefix}.{i}.s"], arrays[f"{prefix}.{i}.y"]) for i in saved}

        chain = zoom_levels.LevelChain(folder_for_chain, int(state["unit"]))
        chain.levels = []
        for k, raw in enumerate(state["levels"]):
            lv = zoom_levels._Level(int(raw["width"]))
            lv.buckets = int(raw["buckets"])
            lv.kept = {key: [v] for key, v in get(f"k{k}", raw["kept"]).items()}
            lv.pending = get(f"p{k}", raw["pending"])
            if raw["writer"] is not None:
                lv.writer = zoom_levels.TileWriter(folder_for_chain, k, int(raw["writer"]["span"]))
                lv.writer.tiles = [int(t) for t in raw["writer"]["tiles"]]
                lv.writer.buf = {key: [v] for key, v in get(f"b{k}", raw["buf"]).items()}
            chain.levels.append(lv)
        totals.problems = [Problem(str(p), ln if isinstance(ln, int) else None, str(r))
                           for p, ln, r in state["problems"]]
        totals.text = {k: [tuple(t) for t in v] for k, v in state["text"].items()}
        totals.text_first_line = {k: int(v) for k, v in state["text_first_line"].items()}
        totals.nan_at = {names[int(n.split(".")[1])]: [a] for n, a in arrays.items() if n.startswith("nan.")}
        totals.last = {k: (int(s), float(v)) for k, (s, v) in state["last"].items()}
        totals.counts = state["counts"]
        totals.points = {k: int(v) for k, v in state["points"].items()}
        totals.keys = dict.fromkeys(state["keys"])
        totals.last_step = state["last_step"]
        totals.rows, totals.in_order = int(state["rows"]), bool(state["in_order"])
        return chain, offset, int(state["lines"]), check
    except Exception:  # noqa: BLE001 - any state that does not read back: read from the start
        return None


def forget(folder: Path) -> None:
    for name in (STATE_FILE, ARRAYS_FILE):
        try:
            os.unlink(folder / name)
        except OSError:
            pass
