"""What it takes to reproduce a run (``init(save_code=True)``, the default), captured once on a
background thread ("runpages-code") so ``init`` does not wait for git.

Invariants: only files git does not ignore are captured, nothing over ``MAX_CODE_BYTES``; each
file lands by temp name + rename and ``code/reproduce.json`` is written last, so a reader that
finds it finds the rest. The environment list comes from ``importlib.metadata`` (the installed
distributions as ``name==version``, what ``pip freeze`` prints for non-editable installs) so no
subprocess is started per run. Failures become ``notes`` in reproduce.json, never exceptions.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from typing import Any, Callable

from . import schema
from .encode import dumps
from .writer import atomic_write

MAX_CODE_BYTES = 1024 * 1024


def _git(args: list[str], cwd: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)   # one scan per process: what is installed does not change
def requirements() -> str:
    from importlib import metadata  # noqa: PLC0415
    seen = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return "".join(line + "\n" for _, line in sorted(seen.items()))


def capture(run_dir: str, cwd: str, argv: list[str], commit: str | None,
            warn: Callable[[str, str], None]) -> None:
    notes: list[str] = []
    info: dict[str, Any] = {"commit": commit, "command": list(argv), "diff": None,
                            "diff_bytes": None, "untracked": None, "script": None,
                            "requirements": None, "notes": notes}

    def put(rel: str, text: str) -> bool:
        path = os.path.join(run_dir, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return atomic_write(path, text, warn)

    top = _git(["rev-parse", "--show-toplevel"], cwd) if commit else None
    if top:
        top = top.strip()
        diff = _git(["diff", "HEAD", "--no-color", "--no-ext-diff"], top)
        if diff:
            size = len(diff.encode("utf-8", "replace"))
            info["diff_bytes"] = size
            if size > MAX_CODE_BYTES:
                notes.append(f"git diff is {size} bytes, over the {MAX_CODE_BYTES} byte cap: not saved")
            elif put(f"{schema.CODE_DIR}/diff.patch", diff):
                info["diff"] = f"{schema.CODE_DIR}/diff.patch"
        untracked = _git(["ls-files", "--others", "--exclude-standard"], top)
        if untracked is not None:
            files = [f for f in untracked.splitlines() if f]
            info["untracked"] = len(files)
            if files:
                put(f"{schema.CODE_DIR}/untracked.txt", "\n".join(files) + "\n")
    script = os.path.abspath(argv[0]) if argv and argv[0] not in ("", "-c", "-m") else None
    if script and os.path.isfile(script) and script.endswith(".py"):
        ignored = top and _git(["check-ignore", "-q", script], top) is not None
        size = os.path.getsize(script)
        if ignored:
            notes.append("the entry script is ignored by git: not saved")
        elif size > MAX_CODE_BYTES:
            notes.append(f"the entry script is {size} bytes, over the cap: not saved")
        else:
            try:
                with open(script, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                rel = f"{schema.CODE_DIR}/{os.path.basename(script)}"
                if rel != schema.REPRODUCE_FILE and put(rel, text):
                    info["script"] = rel
            except OSError as exc:
                notes.append(f"cannot read the entry script ({exc.strerror or exc})")
    try:
        if put(f"{schema.ENV_DIR}/requirements.txt", requirements()):
            info["requirements"] = f"{schema.ENV_DIR}/requirements.txt"
    except Exception as exc:                      # a broken distribution's metadata
        notes.append(f"cannot list installed packages ({exc!r})")
    put(schema.REPRODUCE_FILE, dumps(info) + "\n")


def start(run_dir: str, meta: dict, warn: Callable[[str, str], None]):
    import threading  # noqa: PLC0415
    git = meta.get("git") if isinstance(meta.get("git"), dict) else {}
    argv = list(sys.argv)
    t = threading.Thread(target=_guarded, name="runpages-code", daemon=True,
                         args=(run_dir, str(meta.get("cwd") or os.getcwd()), argv,
                               git.get("commit"), warn))
    t.start()
    return t


def _guarded(*args: Any) -> None:
    try:
        capture(*args)
    except Exception as exc:
        args[-1]("save-code", f"runpages: saving code for reproduction failed ({exc!r}).")
