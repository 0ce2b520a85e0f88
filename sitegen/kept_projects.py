"""Stand-ins for the projects a rebuild keeps without reading (``build_kept`` decides which),
and the read that leaves their folders out.

Invariants:
- A stand-in is a project whose runs are read on first asking (``KeptProject.runs``); until
  then the site-wide pages see only its kept summary (``pages.summary``).
- The read never leaves a kept project half read: a run read outside its folders that belongs
  to it, or a new project that would move its URL, makes it read with the rest (``read``).
"""
from __future__ import annotations

from runpages.site_paths import unique_slugs


class KeptProject:
    """Stands in for a project the build keeps: its name and kept summary, and its runs read
    on first asking (then it is a project like any other: ``loaded``)."""

    kept = True

    def __init__(self, name: str, state: dict, summary: dict, load):
        self.name, self.state, self.summary = name, state, summary
        self._load, self._project = load, None

    @property
    def loaded(self) -> bool:
        return self._project is not None

    @property
    def project(self):
        if self._project is None:
            self._project = self._load(self)
        return self._project

    @property
    def runs(self) -> list:
        return self.project.runs

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.project, name)     # users, main_metric, config_keys, ...


def is_kept(project) -> bool:
    """Whether ``project`` is a stand-in whose runs nothing asked for."""
    return getattr(project, "kept", False) and not project.loaded


def read(dirs, kept: dict[str, tuple[dict, dict]], *, cache, now, found, records, problem_dirs: set,
         load) -> tuple[list, list, list[KeptProject]]:
    """Read every run outside the kept projects' folders: (projects, problems, stand-ins for
    the kept ones). A kept project that turns out to be touched (a run read belongs to it, or
    its URL would move) is dropped from ``kept`` and read with the rest."""
    from runpages.sitegen.reader import read_runs

    while True:
        skip = {f for st, _ in kept.values() for f in st["folders"]}
        projects, problems = read_runs(dirs, cache=cache, now=now, found=found, records=records,
                                       skip=skip, problem_dirs=problem_dirs)
        names = sorted({p.name for p in projects} | set(kept))
        slugs = dict(zip(names, unique_slugs(names)))
        touched = {p.name for p in projects if p.name in kept}
        touched |= {name for name, (st, _) in kept.items() if slugs[name] != st["slug"]}
        if not touched:
            stand_ins = [KeptProject(name, st, summary, load) for name, (st, summary) in kept.items()]
            return projects, problems, stand_ins
        for name in touched:
            del kept[name]
        problem_dirs.clear()
