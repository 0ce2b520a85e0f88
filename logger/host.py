"""What a run's meta.json says about where it ran: user, host, OS, Python, command, git.

Everything here is best effort: a value that cannot be found is ``None``, never an error.
``git_info`` reads ``.git`` files directly (no subprocess on the hot path of ``init``); only
the dirty flag runs ``git status``, and the run calls that from its background thread.
Remote URLs lose any ``user:password@`` part before they are written.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any


def _try(fn, default=None):
    try:
        return fn()
    except Exception:
        return default


def user() -> str | None:
    def get():
        import getpass  # noqa: PLC0415
        return getpass.getuser()
    return _try(get) or os.environ.get("USER") or os.environ.get("LOGNAME")


def hostname() -> str | None:
    return _try(lambda: os.uname().nodename) or os.environ.get("COMPUTERNAME")


def os_name() -> str | None:
    def get():
        u = os.uname()
        return f"{u.sysname} {u.release} {u.machine}"
    return _try(get) or sys.platform


def memory_gb() -> float | None:
    def get():
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 2)
    return _try(get)


def command() -> list[str]:
    return list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])


def describe() -> dict[str, Any]:
    return {
        "user": user(),
        "host": hostname(),
        "os": os_name(),
        "python": sys.version.split()[0],
        "command": command(),
        "cwd": _try(os.getcwd),
        "cpu_count": os.cpu_count(),
        "memory_gb": memory_gb(),
    }


# ---- git ------------------------------------------------------------------------------------
def find_git_dir(start: str) -> str | None:
    path = os.path.abspath(start)
    while True:
        candidate = os.path.join(path, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):  # worktree or submodule: "gitdir: <path>"
            with open(candidate, encoding="utf-8") as f:
                line = f.read().strip()
            if line.startswith("gitdir:"):
                return os.path.normpath(os.path.join(path, line[7:].strip()))
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def _common_dir(git_dir: str) -> str:
    """Where shared refs and config live: a worktree's ``commondir``, else ``git_dir``."""
    common = _read(os.path.join(git_dir, "commondir"))
    return os.path.normpath(os.path.join(git_dir, common.strip())) if common else git_dir


def _resolve_ref(git_dir: str, common_dir: str, ref: str) -> str | None:
    for d in dict.fromkeys((git_dir, common_dir)):
        value = _read(os.path.join(d, ref))
        if value:
            return value.strip()
        packed = _read(os.path.join(d, "packed-refs")) or ""
        for line in packed.splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and parts[1].strip() == ref:
                return parts[0]
    return None


def strip_credentials(url: str) -> str:
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url.strip(), flags=re.I)


def git_info(cwd: str | None = None) -> dict[str, Any] | None:
    """``{"commit", "branch", "remote", "dirty": None}`` or None outside a repository."""
    try:
        git_dir = find_git_dir(cwd or os.getcwd())
        if git_dir is None:
            return None
        common_dir = _common_dir(git_dir)
        head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
        branch = commit = None
        if head.startswith("ref:"):
            ref = head[4:].strip()
            branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
            commit = _resolve_ref(git_dir, common_dir, ref)
        elif head:
            commit = head
        remote = None
        config = _read(os.path.join(common_dir, "config")) or ""
        m = re.search(r'\[remote "origin"\][^\[]*?url\s*=\s*(\S+)', config)
        if m:
            remote = strip_credentials(m.group(1))
        return {"commit": commit, "branch": branch, "remote": remote, "dirty": None}
    except Exception:
        return None


def git_dirty(cwd: str | None = None, timeout: float = 5.0) -> bool | None:
    """``git status`` of tracked files (slow on big repos: call it off the main thread)."""
    try:
        import subprocess  # noqa: PLC0415
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                             cwd=cwd, capture_output=True, timeout=timeout, text=True)
        if out.returncode != 0:
            return None
        return bool(out.stdout.strip())
    except Exception:
        return None
