"""What the reader made of each run folder, kept between builds, so a rebuild does not read a
run whose files did not change: ``RunRecords``.

Invariants:
- A record is the ``model.Run`` as ``reader.read_run`` gave it, without its points (their
  ``FrameFacts`` instead), with the Problems found; keyed by the resolved run folder. It is
  used only while the folder's fingerprint (every run file's size, mtime and inode) and the way
  the folder was spelled (Problem paths) are what they were, and never across runpages
  versions. Status is not kept: it depends on the time, so the reader settles it again.
- Records live in one JSON file per project folder, named by a hash of its path; a build
  rewrites only the files of folders where a run was read afresh or went away. Nothing is
  unpickled or executed on load; a file that does not read back is an empty one (its runs are
  simply read again), never an error.
- A record's points come back through the read cache, by the same path ``read_run`` takes, only
  when a page asks for them (``lazyframe.LazyFrame``).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from runpages import __version__
from runpages.problems import Problem
from runpages.sitegen.readcache import json_default, problems_to_json

RECORDS_DIR = "records"
VERSION = 1
_LAYOUT = [VERSION, __version__]


def _file_name(project_dir: str) -> str:
    digest = hashlib.blake2b(project_dir.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return digest + ".json"


class RunRecords:
    """Records of the runs in one cache folder; ``get`` / ``put`` by resolved run folder."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else None
        self._by_project: dict[str, dict[str, dict]] = {}
        self._text: dict[str, str] = {}      # run folder -> its record as JSON, for those put
        self._dirty: set[str] = set()
        self._seen: set[str] = set()
        self._loaded: set[str] = set()
        self._files: set[str] = set()        # record files in the folder, not read yet

    @classmethod
    def load(cls, folder: str | Path) -> "RunRecords":
        """The record files in ``folder`` (an empty set where it is missing or unreadable); a
        file is read when one of its project folder's runs is first asked for, so a rebuild
        that keeps most projects (``build_kept``) reads only the files it needs."""
        records = cls(Path(folder))
        try:
            records._files = {n for n in os.listdir(folder) if n.endswith(".json")}
        except OSError:
            pass
        return records

    def _project(self, project: str) -> dict[str, dict]:
        """The records of one project folder, read from its file on first asking."""
        runs = self._by_project.get(project)
        if runs is None:
            name = _file_name(project)
            got = self._read(name) if name in self._files else None
            runs = self._by_project[project] = got[1] if got is not None and got[0] == project else {}
        return runs

    def _read(self, name: str) -> tuple[str, dict] | None:
        """(project folder, records) of one file not read yet; None when it does not read
        back as this version wrote it (its runs are simply read again)."""
        self._files.discard(name)
        try:
            data = json.loads((self.folder / name).read_bytes())
        except Exception:  # noqa: BLE001 - an unreadable file: its runs are read again
            return None
        if not (isinstance(data, dict) and data.get("layout") == _LAYOUT
                and isinstance(data.get("project"), str) and isinstance(data.get("runs"), dict)
                and _file_name(data["project"]) == name):
            return None
        self._loaded.add(data["project"])
        return data["project"], data["runs"]

    def get(self, real_dir: str, fingerprint: str, shown: str, source: str) -> dict | None:
        """The record of the run in ``real_dir`` while it still holds: same fingerprint,
        spelled and found the same way. Marks the run as present either way."""
        self._seen.add(real_dir)
        return self.peek(real_dir, fingerprint, shown, source)

    def peek(self, real_dir: str, fingerprint: str, shown: str, source: str) -> dict | None:
        """``get`` without marking the run as present."""
        rec = self._project(os.path.dirname(real_dir)).get(real_dir)
        if (isinstance(rec, dict) and rec.get("fingerprint") == fingerprint and fingerprint
                and rec.get("shown") == shown and rec.get("source") == source):
            return rec
        return None

    def put(self, run, problems: list[Problem], shown: str) -> None:
        """Keep what ``read_run`` made of ``run`` (read afresh this build)."""
        from runpages.sitegen.lazyframe import frame_facts

        facts = {}
        for name in ("metrics", "system"):
            got = run.frame_facts(name)
            facts[name] = (got or frame_facts(getattr(run, name))).to_json()
        rec = {
            "fingerprint": run.fingerprint, "shown": shown, "source": run.source,
            "facts": facts,
            "problems": problems_to_json(problems),
            "run": {"id": run.id, "project": run.project, "name": run.name, "meta": run.meta,
                    "config": run.config, "summary": run.summary,
                    "text_keys": run.text_keys,
                    "nan_steps": {k: v.tolist() for k, v in run.nan_steps.items()},
                    "artifacts": [asdict(a) for a in run.artifacts],
                    "media": [asdict(m) for m in run.media], "reproduce": run.reproduce,
                    "files": run.files, "zoom": run.zoom, "problem_count": run.problem_count},
        }
        try:
            text = json.dumps(rec, default=json_default)
        except (TypeError, ValueError, RecursionError):   # a value JSON cannot hold: read again next time
            return
        project = os.path.dirname(run.dir)
        self._project(project)[run.dir] = rec
        self._text[run.dir] = text
        self._seen.add(run.dir)
        self._dirty.add(project)

    def save(self, keep: set[str] | frozenset = frozenset(), present: set[str] | None = None) -> None:
        """Rewrite the files of project folders whose records changed or lost a run; remove
        those of folders with no run left. ``keep``: folders whose runs were not read this
        time (kept by the build): their records stay as they are. ``present``: every folder
        that holds runs now; the files of others, never read this time, are removed."""
        from runpages.sitegen.atomic import write_atomic

        if self.folder is None:
            return
        unread = set(self._files)
        if present is None:               # no list of folders: every file's runs are checked
            for name in sorted(unread):
                got = self._read(name)
                if got is not None:
                    self._by_project.setdefault(got[0], got[1])
            present = set(self._by_project)
        names = {_file_name(f) for f in present}
        for name in sorted(unread - names):
            try:
                (self.folder / name).unlink()
            except OSError:
                pass
            self._files.discard(name)
        for project, runs in list(self._by_project.items()):
            if project in keep:
                continue
            gone = [d for d in runs if d not in self._seen]
            for d in gone:
                del runs[d]
            if gone or (not runs and project in self._loaded):
                self._dirty.add(project)
        for project in sorted(self._dirty):
            path = self.folder / _file_name(project)
            runs = self._by_project.get(project)
            try:
                if not runs:
                    path.unlink(missing_ok=True)
                    self._by_project.pop(project, None)
                    continue
                self.folder.mkdir(parents=True, exist_ok=True)
                body = ",".join(f"{json.dumps(d)}:{self._text.get(d) or json.dumps(rec, default=json_default)}"
                                for d, rec in runs.items())
                write_atomic(path, f'{{"layout":{json.dumps(_LAYOUT)},"project":{json.dumps(project)},'
                                   f'"runs":{{{body}}}}}')
            except (OSError, TypeError, ValueError, RecursionError):
                pass                       # only a shortcut: those runs are read again next time
        self._loaded = set(self._by_project)
        self._text.clear()
        self._dirty.clear()
        self._seen.clear()


def recalled_fields(rec: dict) -> dict[str, Any]:
    """The ``model.Run`` fields a record holds (frames and status aside)."""
    import numpy as np

    from runpages.sitegen.media import MediaItem
    from runpages.sitegen.model import Artifact

    raw = rec["run"]
    return {
        "id": raw["id"], "project": raw["project"], "name": raw["name"], "meta": raw["meta"],
        "config": raw["config"], "summary": raw["summary"],
        "text_keys": {k: [tuple(t) for t in v] for k, v in raw["text_keys"].items()},
        "nan_steps": {k: np.asarray(v, dtype=np.int64) for k, v in raw["nan_steps"].items()},
        "artifacts": [Artifact(**a) for a in raw["artifacts"]],
        "media": [MediaItem(**m) for m in raw["media"]], "reproduce": raw["reproduce"],
        "files": raw["files"], "zoom": raw["zoom"], "problem_count": int(raw["problem_count"]),
    }
