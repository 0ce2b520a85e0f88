"""A local mirror of runs on an object store, so the reader and the build stay local.

A store URL given as a runs folder (``runpages build s3://team/runs``) is mirrored into the
folder ``mirror_dir(url, root)``: ``<root>/store/<scheme>/<bucket>/<prefix>``, where the root is
the build's own cache choice (``--cache-dir`` or ``cache_dir`` in runpages.toml; ``publish``
without ``-o`` keeps the mirror there though its build cache is thrown away), else
``$RUNPAGES_CACHE_DIR``, else ``$XDG_CACHE_HOME/runpages`` (``~/.cache/runpages``), so the
mirror of one bucket is shared by every site built from it. ``refresh_mirrors(config)`` brings
it up to date and puts that folder in the URL's place in ``config.runs_dirs`` before anything
reads it.

Invariants:
* Incremental by the store's own metadata: one listing of the prefix, then only objects whose
  ETag (or size and mtime where the store has no ETag) changed are fetched, in parallel on a
  bounded pool, one GET each (sizes come from the listing; an empty object needs none). A
  pass with nothing changed makes no GET. Each file is written as its objects arrive; objects
  past ``SPILL_BYTES`` are streamed to disk beside the mirror and renamed into place. The tags
  live in ``<mirror>.state.json`` beside the mirror, never inside it.
* ``leave`` (``--artifacts link``: ``storelinks.stays_in_store``) names objects read from the
  store itself: not fetched, not removed, reported in ``MirrorStats.left``.
* Segments ``<file>.parts/<start>-<end>`` (``runpages.store``) are joined in order after the
  file's whole copy, if any: a grown run costs only its new segments, appended in place (so
  the reader's incremental read cache keeps its offsets). A gap stops the join until the
  missing segment is listed; overlaps are skipped byte-exactly.
* An object listed but gone (or not yet readable) when fetched, as a run's segments are when
  it is compacted between the listing and the GET, is left for the next pass: a missing
  segment is a gap, a missing whole file keeps its last copy and tag.
* An object whose key would land outside the mirror (``..``, empty parts, backslashes) is
  skipped. Objects gone from the store are removed from the mirror.
* No storage option or credential is written anywhere: options are read each time from
  ``[store]`` in runpages.toml and the store's own environment (``runpages.store.store_options``).
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from runpages.store import PARTS_SUFFIX, is_store_url, open_store, parse_part, store_options

FETCH_WORKERS = 16
SPILL_BYTES = 32 << 20             # larger objects are streamed to disk, not held
_SAFE_PART = re.compile(r"^[^\x00-\x1f\\]+$")


def cache_root(config: Any = None) -> Path:
    """Where mirrors live: ``config.mirror_root`` (set by ``publish`` for a throw-away build
    cache), else ``config.cache_dir`` when chosen, else the user's cache dir."""
    chosen = getattr(config, "mirror_root", None) or getattr(config, "cache_dir", None)
    if chosen:
        return Path(chosen).expanduser().resolve()
    given = os.environ.get("RUNPAGES_CACHE_DIR")
    if given:
        return Path(given).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "runpages"


def mirror_dir(url: str, root: Path | None = None) -> Path:
    """The local folder that stands for ``url`` (readable: ``store/s3/bucket/prefix``) under
    ``root`` (default ``cache_root()``)."""
    scheme, _, rest = url.partition("://")
    parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
    safe = [re.sub(r"[^A-Za-z0-9._=+-]", "_", p) for p in parts] or ["_"]
    return (root or cache_root()).joinpath("store", scheme.lower() or "_", *safe)


def url_of(path: Path | str, root: Path | None = None) -> str | None:
    """The store URL a mirror folder (under ``root``) stands for, or None for an ordinary folder."""
    root = (root or cache_root()) / "store"
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return None
    if len(rel.parts) < 2:
        return None
    return f"{rel.parts[0]}://" + "/".join(rel.parts[1:])


@dataclass
class MirrorStats:
    url: str
    local: Path
    listed: int = 0
    fetched: int = 0          # GET requests made (whole objects and segments)
    bytes: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)   # keys that would land outside
    left: dict[str, int] = field(default_factory=dict)  # left in the store: path -> size


def refresh_mirrors(config: Any) -> list[MirrorStats]:
    """Bring the mirror of every store URL in ``config.runs_dirs`` up to date and put the mirror
    folder in its place (a second call refreshes the same mirrors); a store error is a SiteError."""
    from runpages.sitegen.errors import SiteError

    table = _store_table(getattr(config, "source", None))
    root = cache_root(config)
    out = []
    urls: dict[Path, str] = {}
    for i, d in enumerate(config.runs_dirs):
        url = str(d) if is_store_url(d) else url_of(d, root)
        if url is not None:
            urls[mirror_dir(url, root)] = url
    links = None
    if getattr(config, "artifacts", "copy") == "link" and urls:
        from runpages.sitegen.storelinks import StoreLinks

        # the run pages link to artifacts in the store (sitegen/storelinks.py)
        links = config.store_links = StoreLinks(
            urls, getattr(config, "publish_to", None),
            {u: store_options(u, table) for u in urls.values()})
    for i, d in enumerate(config.runs_dirs):
        url = str(d) if is_store_url(d) else url_of(d, root)
        if url is None:
            continue
        local = mirror_dir(url, root)
        config.runs_dirs[i] = local      # from here on everything reads the local mirror
        try:
            leave = None
            if links is not None and links.can_link(url):
                from runpages.sitegen.storelinks import stays_in_store as leave
            stats = mirror(url, local, store_options(url, table), leave=leave)
        except (OSError, ValueError, ImportError, RuntimeError) as err:
            raise SiteError(f"cannot read {url}: {type(err).__name__}: {err}") from None
        except Exception as err:  # botocore/aiohttp errors have no common base
            raise SiteError(f"cannot read {url}: {type(err).__name__}: {err}") from None
        if links is not None:
            links.remember(local, stats.left)
        out.append(stats)
    return out


def _store_table(toml_path: Path | None) -> dict | None:
    if toml_path is None:
        return None
    import tomllib

    try:
        table = tomllib.loads(Path(toml_path).read_text(encoding="utf-8")).get("store")
    except (OSError, ValueError):
        return None
    return table if isinstance(table, dict) else None


def _tag(info: dict) -> str:
    etag = info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("created") or ""
    return f"{etag}:{info.get('size')}"


def _safe_rel(rel: str) -> bool:
    parts = rel.split("/")
    return all(p not in ("", ".", "..") and _SAFE_PART.match(p) for p in parts)


def mirror(url: str, local: Path, options: dict | None = None,
           leave: Callable[[str, set[str]], bool] | None = None) -> MirrorStats:
    """Make ``local`` hold what ``url`` holds (segments joined); returns what it cost.

    ``leave(rel, listed)``: objects (by path under ``url``; ``listed`` is every such path) the
    caller reads from the store itself (``--artifacts link``): neither fetched nor removed,
    and named in ``stats.left``."""
    fs, base = open_store(url, options)
    stats = MirrorStats(url, local)
    local.mkdir(parents=True, exist_ok=True)
    state_path = local.with_name(local.name + ".state.json")
    state = _load_state(state_path)
    # A listing cached by the client (s3fs keeps one per folder) would hide what was written
    # since the last pass: every pass lists afresh (one paginated listing of the prefix).
    fs.invalidate_cache()
    try:
        listing = fs.find(base, detail=True)
    except FileNotFoundError:
        listing = {}
    objects: dict[str, tuple[str, dict]] = {}
    for key, info in listing.items():
        if info.get("type") == "directory":
            continue
        rel = key[len(base):].lstrip("/") if key.startswith(base) else None
        if not rel or not _safe_rel(rel):
            stats.skipped.append(key)
            continue
        objects[rel] = (key, info)
    stats.listed = len(objects)
    names = set(objects)
    files: dict[str, dict] = {}          # logical file -> {"base": (key, tag), "parts": [...]}
    sizes: dict[str, int] = {}
    for rel, (key, info) in objects.items():
        if leave is not None and leave(rel, names):
            stats.left[rel] = int(info.get("size") or 0)
            continue
        sizes[key] = int(info.get("size") or 0)
        folder, _, name = rel.rpartition("/")
        span = parse_part(name) if folder.endswith(PARTS_SUFFIX) else None
        if span:
            entry = files.setdefault(folder[:-len(PARTS_SUFFIX)], {"base": None, "parts": []})
            entry["parts"].append((span[0], span[1], key))
        else:
            files.setdefault(rel, {"base": None, "parts": []})["base"] = (key, _tag(info))

    plans = {rel: _plan(rel, entry, state.get(rel), local) for rel, entry in files.items()}
    new_state = {}
    # large objects spill beside the mirror (same disk: renamed into place, never copied)
    with tempfile.TemporaryDirectory(prefix=f".{local.name}.fetch-", dir=local.parent) as spill, \
            ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        get = _getter(fs, Path(spill))
        # every GET is in flight at once (bounded by the pool); files are written in order as
        # their objects arrive, each object dropped once written (memory: what is in flight)
        pending = {rel: [(k, pool.submit(get, k, sizes[k])) for k in plan["fetch"]]
                   for rel, plan in plans.items()}
        try:
            _write_all(plans, pending, sizes, state, new_state, local, stats)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)    # a failing store: stop asking it
            raise
    for rel in stats.left:               # read from the store itself: a copy here stays as it is
        if rel in state:
            new_state[rel] = state[rel]
    for rel in set(state) - set(files) - set(stats.left):
        stats.removed += _remove(local, rel)
    if stats.removed:
        _prune_empty(local)
    _save_state(state_path, new_state)
    return stats


def _write_all(plans: dict, pending: dict, sizes: dict, state: dict, new_state: dict,
               local: Path, stats: MirrorStats) -> None:
    """Write each planned file, in order, once its objects are in (``pending`` futures)."""
    for rel, plan in plans.items():
        blobs = {k: f.result() for k, f in pending.pop(rel)}
        stats.fetched += sum(1 for k in blobs if sizes[k])
        stats.bytes += sum(sizes[k] for k, b in blobs.items() if b is not None)
        target = local.joinpath(*rel.split("/"))
        base_obj = plan["base"]
        if plan["fresh"] and base_obj is not None and blobs.get(base_obj[0]) is None:
            if rel in state:             # gone since the listing: as it was, until next pass
                new_state[rel] = state[rel]
            continue
        new_state[rel] = _apply(plan, blobs, target)


def _getter(fs: Any, spill: Path) -> Callable[[str, int], Any]:
    """``get(key, size)``: the object's bytes, a file under ``spill`` holding it (objects past
    ``SPILL_BYTES``: streamed to disk, never whole in memory), or None when it is gone.

    One GET each: s3fs's ``cat_file`` asks for the size first (a HEAD, or its folder cache,
    which misses objects newer than it) unless told to read in one piece; the listing already
    gave the size. An empty object needs no request."""
    one_piece = {"max_concurrency": 1} if "max_concurrency" in \
        inspect.signature(fs.cat_file).parameters else {}
    counter = iter(range(1 << 62))

    def get(key: str, size: int) -> Any:
        if size == 0:
            return b""
        try:
            if size > SPILL_BYTES:
                path = spill / f"{next(counter)}"
                fs.get_file(key, str(path))
                return path
            return fs.cat_file(key, **one_piece)
        except FileNotFoundError:
            return None
    return get


def _plan(rel: str, entry: dict, tag: dict | None, local: Path) -> dict:
    """Which objects to GET for one logical file, and whether it is rewritten or appended."""
    target = local.joinpath(*rel.split("/"))
    base = entry["base"]
    tag = tag or {}
    length = tag.get("length", 0)
    fresh = (base is not None and tag.get("base") != base[1]) or \
            (base is None and tag.get("base") is not None)
    if not fresh:
        try:
            fresh = target.stat().st_size != length
        except OSError:                  # not there (or not a file): fetched again
            fresh = True
    fetch = []
    if fresh:
        length = 0
        if base is not None:
            fetch.append(base[0])
    return {"fresh": fresh, "base": base, "length": length, "parts": sorted(entry["parts"]),
            "fetch": fetch + _needed_parts(entry["parts"], None if fresh else length,
                                           bool(base) and fresh), "tag": tag}


def _needed_parts(parts: list, length: int | None, after_base: bool) -> list[str]:
    # With a fresh base we do not know its length before fetching it: take every segment;
    # _apply skips the bytes the base already holds.
    if after_base:
        return [k for _s, _e, k in sorted(parts)]
    cur, out = (length or 0), []
    for start, end, key in sorted(parts, key=lambda p: (p[0], -p[1])):
        if end <= cur:
            continue
        if start > cur:
            break                                 # a gap: wait for the missing segment
        out.append(key)
        cur = end
    return out


def _apply(plan: dict, blobs: dict, target: Path) -> dict:
    """Write one logical file: a fresh one by temp name + rename (a spilled base is renamed
    into place as it is), a grown one by appending its new segments."""
    base = plan["base"]
    fresh = plan["fresh"]
    if not fresh and not plan["fetch"]:
        return {"base": base[1] if base else None, "length": plan["length"]}    # as it was
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.mirror-tmp")
    if fresh and base is not None and isinstance(blobs[base[0]], Path):
        os.replace(blobs[base[0]], tmp)
        out, cur = open(tmp, "ab"), tmp.stat().st_size
    else:
        out = open(tmp if fresh else target, "wb" if fresh else "ab")
        cur = plan["length"]
        if fresh and base is not None:
            out.write(blobs[base[0]])
            cur = len(blobs[base[0]])
    with out:
        for start, end, key in plan["parts"]:
            if key not in blobs or end <= cur:
                continue
            blob = blobs[key]
            if start > cur or blob is None:
                break                      # a gap, or a segment gone since the listing
            if isinstance(blob, Path):
                with open(blob, "rb") as f:
                    f.seek(cur - start)
                    shutil.copyfileobj(f, out, 1 << 20)
                blob.unlink()
            else:
                out.write(memoryview(blob)[cur - start:])
            cur = end
    if fresh:
        os.replace(tmp, target)
    return {"base": base[1] if base else None, "length": cur}


def _remove(local: Path, rel: str) -> int:
    target = local.joinpath(*rel.split("/"))
    try:
        target.unlink()
        return 1
    except FileNotFoundError:
        return 0


def _prune_empty(local: Path) -> None:
    for root, dirs, files in os.walk(local, topdown=False):
        if Path(root) != local and not dirs and not files:
            try:
                os.rmdir(root)
            except OSError:
                pass


def _load_state(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def poll_mirrors(config: Any, interval: float, on_error) -> threading.Event:
    """Refresh the mirrors every ``interval`` seconds in a daemon thread (``serve --watch``):
    the files it writes are what the watcher sees change. Set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                refresh_mirrors(config)
            except Exception as err:  # noqa: BLE001 (keep serving; say why once per cause)
                on_error(str(err))

    threading.Thread(target=loop, name="runpages-store-poll", daemon=True).start()
    return stop


def clear_mirror(url: str, root: Path | None = None) -> None:
    """Forget a mirror (its files and tags)."""
    local = mirror_dir(url, root)
    shutil.rmtree(local, ignore_errors=True)
    local.with_name(local.name + ".state.json").unlink(missing_ok=True)
