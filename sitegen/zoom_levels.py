"""Detail on zoom: min/max levels of a long run's metrics, built while the file is read in
chunks, written as tile scripts the run page loads with ``<script src>`` (works from ``file://``).

Levels (``u``: the run's step unit, a power of two near its typical step spacing):
- level 0 holds every logged point; a tile covers ``RAW_TILE * u`` steps;
- level k >= 1 holds, per metric and per bucket of ``u * FACTOR**k`` steps, the minimum, the
  maximum and the first non-finite value (NaN/±inf), each at its own step; a tile covers
  ``BUCKET_TILE`` buckets. Level k+1 is made from level k's points: the min and max of a bucket
  are among its sub-buckets' points, and so is its first non-finite value, so every level is
  exact, never an estimate.
- A level stays in memory while it has at most ``MEM_BUCKETS`` buckets; past that it writes
  its finished tiles (and keeps only the open one) and starts the next level. When the file
  ends, the finest level still in memory is the run's overview (what ``Run.metrics`` holds and
  the page first draws); the written levels are what zooming loads.

Invariants:
- Points arrive in step order (``longread`` checks; steps going back turn the levels off).
- A tile file is ``RunpagesData.addTile({...});``: per metric ``"s"`` (steps, ``packed.steps``)
  and ``"y"`` (values, ``packed.floats``: exact float64, NaN/±inf kept), or ``"s": null`` when
  the metric has the tile's shared ``"rows"`` steps. Metric names are JSON strings with ``<``,
  ``>``, ``&`` and line separators escaped.
- A tile is written once it is finished (and the open one when the file ends); a read that goes
  on from where the last one stopped (``long_resume``) writes only the open tiles again and
  the new ones. Each lands by temp name + rename.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runpages.sitegen import packed
from runpages.sitegen.atomic import write_atomic

FACTOR = 8              # bucket width grows 8x per level
RAW_TILE = 4096         # points per level-0 tile (steps when the steps are dense)
BUCKET_TILE = 1024      # buckets per tile of a min/max level (~2,000-3,000 points per metric)
MEM_BUCKETS = 8192      # a level this small stays in memory (the overview candidate)
TILE_FUNCTION = "RunpagesData.addTile"

Points = dict[str, tuple[np.ndarray, np.ndarray]]   # metric -> (int64 steps, float64 values)


def bucket_points(s: np.ndarray, y: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket of ``width`` steps: the min, the max and the first non-finite point (step
    order kept, each point once). ``s`` ascending."""
    n = len(s)
    if not n:
        return s, y
    b = s // width
    starts = np.flatnonzero(np.concatenate(([True], b[1:] != b[:-1])))
    counts = np.diff(np.concatenate((starts, [n])))
    finite = np.isfinite(y)
    lo = np.where(finite, y, np.inf)
    hi = np.where(finite, y, -np.inf)
    keep = [_first_true(lo == np.repeat(np.minimum.reduceat(lo, starts), counts), starts),
            _first_true(hi == np.repeat(np.maximum.reduceat(hi, starts), counts), starts)]
    if not finite.all():
        keep.append(_first_true(~finite, starts))      # -1 where a bucket has none
    # per bucket its 2-3 positions in order; buckets are in order already (no global sort)
    idx = np.sort(np.stack(keep, axis=1), axis=1).ravel()
    first = np.ones(len(idx), dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    idx = idx[first & (idx >= 0)]
    return s[idx], y[idx]


def _count_buckets(s: np.ndarray, width: int) -> int:
    """Buckets ascending steps ``s`` fall in."""
    if not len(s):
        return 0
    b = s // width
    return int(np.count_nonzero(b[1:] != b[:-1])) + 1


def _first_true(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group (``starts``: ascending group starts over ``mask``): the first True, else -1."""
    hits = np.flatnonzero(mask)
    if not len(hits):
        return np.full(len(starts), -1)
    j = np.searchsorted(hits, starts)
    cand = hits[np.minimum(j, len(hits) - 1)]
    ends = np.concatenate((starts[1:], [len(mask)]))
    return np.where((j < len(hits)) & (cand < ends), cand, -1)


def _js_key(key: str) -> str:
    out = json.dumps(key)              # ASCII only: U+2028/2029 escaped too
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tile_script(level: int, tile: int, points: Points) -> str:
    """The text of one tile file."""
    rows = None
    arrays = list(points.values())
    if len(arrays) > 1 and all(len(a[0]) == len(arrays[0][0]) for a in arrays) \
            and all(np.array_equal(a[0], arrays[0][0]) for a in arrays[1:]):
        rows = arrays[0][0]
    elif len(arrays) == 1:
        rows = arrays[0][0]
    parts = []
    for key, (s, y) in points.items():
        steps = "null" if rows is not None else packed.steps(s)
        parts.append(f'{_js_key(key)}:{{"s":{steps},"y":{packed.floats(y)}}}')
    head = f'"level":{level},"tile":{tile}'
    if rows is not None:
        head += f',"rows":{packed.steps(rows)}'
    return f'{TILE_FUNCTION}({{{head},"keys":{{{",".join(parts)}}}}});\n'


class TileWriter:
    """One level's tiles: buffers points until a tile is finished, then writes it."""

    def __init__(self, folder: Path | None, level: int, span: int):
        self.folder, self.level, self.span = folder, level, span
        self.buf: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.tiles: list[int] = []        # tile indices holding points, ascending
        self.written = 0                  # tile files (re)written by this read

    def add(self, points: Points, final_below: float) -> None:
        """Take points; write every tile that ends at or below step ``final_below``."""
        for key, (s, y) in points.items():
            if len(s):
                self.buf.setdefault(key, []).append((s, y))
        self._flush(final_below)

    def close(self) -> None:
        self._flush(np.inf)

    def _flush(self, final_below: float) -> None:
        if not self.buf:
            return
        joined = {k: (np.concatenate([p[0] for p in v]), np.concatenate([p[1] for p in v]))
                  for k, v in self.buf.items()}
        lowest = min(int(s[0]) for s, _ in joined.values())
        tile = lowest // self.span
        while (tile + 1) * self.span <= final_below:
            end = (tile + 1) * self.span
            out: Points = {}
            rest = {}
            for key, (s, y) in joined.items():
                cut = int(np.searchsorted(s, end))
                if cut:
                    out[key] = (s[:cut], y[:cut])
                if cut < len(s):
                    rest[key] = (s[cut:], y[cut:])
            if out:
                self._write(tile, out)
            joined = rest
            if not joined:
                break
            tile = min(int(s[0]) for s, _ in joined.values()) // self.span
        self.buf = {k: [v] for k, v in joined.items()}

    def _write(self, tile: int, points: Points) -> None:
        self.tiles.append(tile)
        if self.folder is None:
            return
        write_atomic(self.folder / str(self.level) / f"{tile}.js", tile_script(self.level, tile, points))
        self.written += 1


@dataclass
class _Level:
    width: int                                   # steps per bucket (level 0: per point)
    writer: TileWriter | None = None             # set once the level writes tiles
    kept: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    buckets: int = 0                             # finished buckets kept in memory
    pending: Points = field(default_factory=dict)   # points of the bucket still open


class LevelChain:
    """Every level of one run, fed chunk by chunk with level-0 points (in step order)."""

    def __init__(self, folder: Path | None, unit: int):
        self.folder, self.unit = folder, max(1, int(unit))
        self.levels: list[_Level] = [_Level(self.unit, self._writer(0, RAW_TILE * self.unit)),
                                     _Level(self.unit * FACTOR)]

    def _writer(self, level: int, span: int) -> TileWriter:
        return TileWriter(self.folder, level, span)

    def add(self, points: Points, last_step: int) -> None:
        """Level-0 points of one chunk; no later point has a step <= ``last_step``."""
        self.levels[0].writer.add(points, last_step + 1)
        self._feed(1, points, last_step + 1)

    def close(self) -> None:
        self.levels[0].writer.close()
        self._feed(1, {}, np.inf)
        for lv in self.levels[1:]:
            if lv.writer is not None:
                lv.writer.close()

    def _feed(self, k: int, points: Points, frontier: float) -> None:
        """Points of level k-1; no later one has a step below ``frontier``."""
        lv = self.levels[k]
        # buckets that end at or below the frontier are final; the rest wait for more points
        open_from = frontier if frontier == np.inf else (int(frontier) // lv.width) * lv.width
        done: Points = {}
        for key in list(dict.fromkeys([*lv.pending, *points])):
            parts = [p for p in (lv.pending.get(key), points.get(key)) if p is not None and len(p[0])]
            if not parts:
                continue
            s = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
            y = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
            cut = len(s) if open_from == np.inf else int(np.searchsorted(s, open_from))
            if cut < len(s):
                lv.pending[key] = (s[cut:], y[cut:])
            else:
                lv.pending.pop(key, None)
            if cut:
                done[key] = bucket_points(s[:cut], y[:cut], lv.width)
        self._store(k, done, open_from)

    def _store(self, k: int, points: Points, frontier: float) -> None:
        lv = self.levels[k]
        if lv.writer is not None:
            lv.writer.add(points, frontier)
        else:
            for key, v in points.items():
                lv.kept.setdefault(key, []).append(v)
            if points:
                lv.buckets += max(_count_buckets(s, lv.width) for s, _ in points.values())
            if lv.buckets > MEM_BUCKETS:
                self._start_writing(k, frontier)
                return
        if k + 1 < len(self.levels):
            self._feed(k + 1, points, frontier)

    def _start_writing(self, k: int, frontier: float) -> None:
        """Level ``k`` grew past ``MEM_BUCKETS``: write it as tiles from now on, and start the
        next level from everything it held."""
        lv = self.levels[k]
        lv.writer = self._writer(k, BUCKET_TILE * lv.width)
        held = {key: (np.concatenate([p[0] for p in v]), np.concatenate([p[1] for p in v]))
                for key, v in lv.kept.items()}
        lv.kept, lv.buckets = {}, 0
        lv.writer.add(held, frontier)
        self.levels.append(_Level(lv.width * FACTOR))
        self._feed(k + 1, held, frontier)

    def overview(self) -> Points:
        """The finest level still in memory: every metric's points there."""
        for lv in self.levels[1:]:
            if lv.writer is None:
                return {key: (np.concatenate([p[0] for p in v]), np.concatenate([p[1] for p in v]))
                        for key, v in lv.kept.items()}
        return {}

    def info(self) -> dict:
        """What the browser needs: per written level its bucket width, tile span and tiles."""
        levels = []
        for k, lv in enumerate(self.levels):
            if lv.writer is None:
                break
            levels.append({"level": k, "width": lv.width, "span": lv.writer.span,
                           "tiles": len(lv.writer.tiles), "ranges": tile_ranges(lv.writer.tiles)})
        return {"unit": self.unit, "levels": levels}

    def tile_lists(self) -> dict[int, list[int]]:
        """Per written level, the tiles that hold points."""
        return {k: lv.writer.tiles for k, lv in enumerate(self.levels) if lv.writer is not None}

    def written(self) -> int:
        return sum(lv.writer.written for lv in self.levels if lv.writer is not None)


def tile_ranges(tiles: list[int]) -> list[list[int]]:
    """Ascending tile indices as ``[first, last]`` runs (a run with gaps in its steps has
    no tile for a gap: the page does not ask for one)."""
    out: list[list[int]] = []
    for t in tiles:
        if out and t == out[-1][1] + 1:
            out[-1][1] = t
        elif not out or t > out[-1][1]:
            out.append([t, t])
    return out


def tile_files(folder: Path) -> list[str]:
    """Every tile file under a run's level folder, as ``<level>/<tile>.js``, in level and tile order."""
    out = []
    try:
        levels = sorted(os.listdir(folder))
    except OSError:
        return out
    for level in sorted((n for n in levels if n.isdigit()), key=int):
        if not level.isdigit():
            continue
        try:
            names = os.listdir(folder / level)
        except OSError:
            continue
        tiles = sorted(int(n[:-3]) for n in names if n.endswith(".js") and n[:-3].isdigit())
        out.extend(f"{level}/{t}.js" for t in tiles)
    return out
