"""Run and user colours: one palette and one rule, so a run has the same colour on every page.

The rule (``assign_colors``): things are coloured in the order they appeared (runs by start
time, then key; users by their first run). Each takes the palette colour its key hashes to,
unless one of the ``len(PALETTE) - 1`` things coloured just before it already has that colour;
then the next free palette colour after it. So any 12 neighbours in that order (the runs of an
afternoon, the ones people compare) have 12 different colours, and a newcomer never changes
the colour of anything that appeared before it. The colour travels to the browser in each
run's data (``color``); no page re-colours by position. Far-apart runs can share a colour.
Pure functions, no I/O.
"""
from __future__ import annotations

import hashlib
import math
from typing import Iterable

# Colour-blind-safe: Okabe-Ito (minus yellow and black) then Paul Tol's muted scheme.
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9",
    "#332288", "#117733", "#882255", "#44aa99", "#999933", "#aa4499",
)

# Groups are coloured by position (a group is no thing with a key): the two most distinct first.
GROUP_PALETTE = tuple(PALETTE[i] for i in (0, 3, 2, 4, 1, 5, 6, 7, 8, 9, 10, 11))


def hash_index(key: str, n: int = len(PALETTE)) -> int:
    """The palette slot a key hashes to (first 4 bytes of its SHA-1, modulo ``n``)."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:4], "big") % n


def run_color(key: str) -> str:
    """The colour a key hashes to, before any neighbour moved it (``assign_colors``)."""
    return PALETTE[hash_index(key)]


def assign_colors(keys_in_order: Iterable[str], palette: tuple[str, ...] = PALETTE) -> dict[str, str]:
    """``{key: colour}`` by the module's rule; ``keys_in_order`` is the order of appearance."""
    n = len(palette)
    out: dict[str, str] = {}
    recent: list[int] = []          # palette slots of the last n - 1 keys coloured
    for key in keys_in_order:
        if key in out:
            continue
        slot = hash_index(key, n)
        while slot in recent:
            slot = (slot + 1) % n
        out[key] = palette[slot]
        recent.append(slot)
        if len(recent) > n - 1:
            recent.pop(0)
    return out


def _start(t) -> float:
    return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) else math.inf


def run_colors(project_runs: Iterable[tuple[str, object]]) -> dict[str, str]:
    """Colours of one project's runs from ``(key, started_at)`` pairs: start order, then key."""
    pairs = sorted(project_runs, key=lambda p: (_start(p[1]), p[0]))
    return assign_colors(k for k, _ in pairs)


def user_colors(first_seen: dict[str, float]) -> dict[str, str]:
    """Colours of users from the time of each one's first run: a new user leaves the others be."""
    return assign_colors(u for u in sorted(first_seen, key=lambda u: (_start(first_seen[u]), u)))
