"""``runpages publish``: build the site and make it the whole content of a branch (``gh-pages``),
then push it, for GitHub Pages' "deploy from a branch".

Invariants:
- The user's working tree, index and current branch are never touched: the site is built in a
  temporary folder (or ``-o``), its files go into the object store with ``git hash-object``,
  the tree is made in a temporary index file (``GIT_INDEX_FILE``), the commit with
  ``git commit-tree``, and the branch moves with ``git update-ref``. No checkout, no stash.
- The branch holds exactly the site, plus ``.nojekyll`` (so GitHub serves ``_static/``) and
  ``CNAME`` when a domain is given (or was there before). The build keeps its cache outside
  the site, so the folder is published as it is. Ignore rules and attributes do not apply:
  every file goes in.
- A tree equal to the branch's last commit makes no new commit.
- Refusals are ``PublishError`` (exit 1) saying what to do: not a git repository, no such
  remote, the branch checked out here, a file over 100 MB or a site over 1 GB.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from runpages.sitegen.errors import SiteError

MAX_FILE_BYTES = 100 * 1024 * 1024        # GitHub refuses files over 100 MB
MAX_SITE_BYTES = 1024 * 1024 * 1024       # GitHub Pages sites may be at most 1 GB


class PublishError(SiteError):
    """A refusal; the message says what to do instead."""


class Git:
    """``git`` in one repository; ``run`` raises ``PublishError`` with git's own words."""

    def __init__(self, cwd: Path, env: dict | None = None):
        self.cwd = Path(cwd)
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("GIT_TERMINAL_PROMPT", "0")

    def run(self, *args: str, input: bytes | None = None, env: dict | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        full = dict(self.env, **(env or {}))
        r = subprocess.run(["git", *args], cwd=self.cwd, input=input, env=full, capture_output=True)
        if check and r.returncode != 0:
            err = r.stderr.decode("utf-8", "replace").strip() or r.stdout.decode("utf-8", "replace").strip()
            raise PublishError(f"git {args[0]} failed: {err}")
        return r

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.decode("utf-8", "replace").strip()

    def ok(self, *args: str) -> str | None:
        r = self.run(*args, check=False)
        return r.stdout.decode("utf-8", "replace").strip() if r.returncode == 0 else None


def find_repo(start: Path) -> Git:
    try:
        r = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True)
    except FileNotFoundError:
        raise PublishError("git is not installed (publish commits the site with git)") from None
    if r.returncode != 0 or not r.stdout.strip():
        raise PublishError(f"{start}: not in a git repository. publish commits the site to a branch of "
                           "your project's repository: run it inside one (or `git init` and "
                           "`git remote add origin URL` first), or use `runpages build` and upload the site yourself")
    return Git(Path(r.stdout.strip()))


def site_files(site: Path) -> list[tuple[str, Path, int]]:
    """``(posix path in the site, file, bytes)`` for every file to publish, sorted."""
    out = []
    for root, dirs, files in os.walk(site):
        rel_root = Path(root).relative_to(site)
        dirs.sort()
        for name in sorted(files):
            p = Path(root) / name
            if p.is_symlink() or not p.is_file():
                continue
            rel = (rel_root / name).as_posix()
            if name.startswith(".tmp-"):
                continue
            out.append((rel, p, p.stat().st_size))
    return out


def check_size(files: list[tuple[str, Path, int]], max_file: int = MAX_FILE_BYTES,
               max_total: int = MAX_SITE_BYTES) -> None:
    """Refuse a site GitHub Pages would refuse, naming the big files and the way out."""
    big = sorted(((rel, size) for rel, _p, size in files if size > max_file), key=lambda x: -x[1])
    total = sum(size for _r, _p, size in files)
    if not big and total <= max_total:
        return
    fix = ("leave big artifacts out with --max-artifact-mb N (artifacts larger than N MB are listed, not "
           "copied) or all of them with --no-artifacts")
    if big:
        names = "".join(f"\n  {rel} ({size / 2**20:.0f} MB)" for rel, size in big[:20])
        more = f"\n  ... and {len(big) - 20} more" if len(big) > 20 else ""
        raise PublishError(f"{len(big)} file{'s' if len(big) > 1 else ''} over GitHub's "
                           f"{max_file / 2**20:.0f} MB limit:{names}{more}\n{fix}")
    largest = sorted(files, key=lambda f: -f[2])[:10]
    names = "".join(f"\n  {rel} ({size / 2**20:.1f} MB)" for rel, _p, size in largest)
    raise PublishError(f"the site is {total / 2**30:.2f} GB; GitHub Pages allows {max_total / 2**30:.0f} GB. "
                       f"Largest files:{names}\n{fix}")


def _identity_env(git: Git) -> dict:
    """commit-tree needs a name and email; CI machines often have none configured."""
    if git.ok("config", "user.name") and git.ok("config", "user.email"):
        return {}
    env = {}
    for who in ("AUTHOR", "COMMITTER"):
        if not git.env.get(f"GIT_{who}_NAME"):
            env[f"GIT_{who}_NAME"] = "runpages"
        if not git.env.get(f"GIT_{who}_EMAIL"):
            env[f"GIT_{who}_EMAIL"] = "runpages@localhost"
    return env


def make_tree(git: Git, files: list[tuple[str, Path, int]], extra: dict[str, bytes]) -> str:
    """Write every file as a blob and the whole set as one tree, in a temporary index."""
    entries: list[tuple[str, str]] = []
    if files:
        paths = "".join(str(p) + "\n" for _rel, p, _s in files).encode("utf-8", "surrogateescape")
        shas = git.out("hash-object", "-w", "--no-filters", "--stdin-paths", input=paths).split()
        if len(shas) != len(files):
            raise PublishError("git hash-object did not hash every file of the site")
        entries += [(rel, sha) for (rel, _p, _s), sha in zip(files, shas)]
    for rel, data in extra.items():
        entries.append((rel, git.out("hash-object", "-w", "--no-filters", "--stdin", input=data)))
    with tempfile.TemporaryDirectory(prefix="runpages-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        info = "".join(f"100644 {sha}\t{rel}\0" for rel, sha in sorted(entries)).encode("utf-8", "surrogateescape")
        git.run("update-index", "-z", "--add", "--index-info", input=info, env=env)
        return git.out("write-tree", env=env)


def check_target(git: Git, branch: str = "gh-pages", remote: str = "origin", push: bool = True) -> None:
    """Refuse (``PublishError``) before any build when the branch or the remote cannot take the site."""
    ref = f"refs/heads/{branch}"
    if git.ok("check-ref-format", ref) is None:
        raise PublishError(f"{branch!r} is not a valid branch name")
    if git.ok("symbolic-ref", "-q", "HEAD") == ref:
        raise PublishError(f"branch {branch!r} is checked out here; publish replaces its whole content. "
                           "Switch to your work branch first, or pass --branch NAME")
    if push and git.ok("remote", "get-url", remote) is None:
        remotes = git.ok("remote") or ""
        known = ", ".join(remotes.split()) or "none"
        raise PublishError(f"no git remote named {remote!r} (remotes: {known}). Add it with "
                           f"`git remote add {remote} URL`, pass --remote NAME, or --no-push to only commit")


def publish_site(git: Git, site: Path, branch: str = "gh-pages", remote: str = "origin",
                 message: str | None = None, cname: str | None = None, push: bool = True,
                 say=print) -> dict:
    """Commit ``site`` as the whole content of ``branch`` and push it; returns what happened."""
    ref = f"refs/heads/{branch}"
    check_target(git, branch, remote, push)
    remote_tip = None
    if push:
        listed = git.out("ls-remote", "--heads", remote, ref)
        if listed:
            remote_tip = listed.split()[0]
            git.run("fetch", "--quiet", "--no-tags", remote, f"+{ref}:refs/remotes/{remote}/{branch}")
    local_tip = git.ok("rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
    parent = remote_tip or local_tip
    if local_tip and remote_tip and local_tip != remote_tip \
            and git.run("merge-base", "--is-ancestor", remote_tip, local_tip, check=False).returncode == 0:
        parent = local_tip                 # committed earlier with --no-push: build on it

    files = site_files(site)
    check_size(files)
    extra = {".nojekyll": b""}
    if cname:
        extra["CNAME"] = cname.strip().encode("utf-8") + b"\n"
    elif parent:
        kept = git.run("cat-file", "blob", f"{parent}:CNAME", check=False)
        if kept.returncode == 0:
            extra["CNAME"] = kept.stdout               # a domain set once stays set
    if any(rel in extra for rel, _p, _s in files):
        files = [f for f in files if f[0] not in extra]
    tree = make_tree(git, files, extra)

    result = {"branch": branch, "tree": tree, "files": len(files) + len(extra),
              "bytes": sum(s for _r, _p, s in files), "committed": False, "pushed": False}
    if parent and git.out("rev-parse", f"{parent}^{{tree}}") == tree:
        commit = parent
        say(f"site unchanged: no new commit on {branch} ({commit[:7]})")
    else:
        head = git.ok("rev-parse", "--short", "HEAD")
        msg = message or ("runpages: publish site" + (f" from {head}" if head else ""))
        args = ["commit-tree", tree, "-m", msg] + (["-p", parent] if parent else [])
        commit = git.out(*args, env=_identity_env(git))
        result["committed"] = True
        say(f"committed the site to {branch}: {commit[:7]} ({result['files']} files, "
            f"{result['bytes'] / 2**20:.1f} MB)")
    if local_tip != commit:
        git.run("update-ref", "-m", "runpages publish", ref, commit, *( [local_tip] if local_tip else []))
    result["commit"] = commit
    if push:
        if remote_tip != commit:
            git.run("push", "--quiet", remote, f"{commit}:{ref}")
            result["pushed"] = True
            say(f"pushed {branch} to {remote}")
        else:
            say(f"{remote}/{branch} is up to date")
    else:
        say(f"not pushed (--no-push): `git push {remote} {branch}` publishes it")
    return result
