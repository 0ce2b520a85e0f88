"""Run names and run ids.

Invariants:
* A run id is ``<yyyymmdd-hhmmss>-<slug>-<6 random [a-z0-9]>`` (UTC time of the run's start),
  made only of ``[a-z0-9._-]``: safe in a path, a URL and HTML whatever name was typed.
* The run folder is created with an exclusive ``mkdir``; on a clash a new random tail is
  drawn, so many processes starting runs in one project in the same second never share one.
* ``make_name()`` gives a readable default name (``brisk-otter-42``).
"""
from __future__ import annotations

import os
import re
import time
import unicodedata

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ADJECTIVES = ("brisk", "calm", "bold", "bright", "clever", "crisp", "eager", "fancy", "gentle",
               "glad", "golden", "happy", "jolly", "keen", "lively", "lucky", "mellow", "nimble",
               "polite", "proud", "quiet", "rapid", "shiny", "silent", "smooth", "snowy", "solar",
               "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "young")
_NOUNS = ("badger", "cedar", "comet", "coral", "dune", "falcon", "fern", "finch", "fjord",
          "galaxy", "glacier", "harbor", "heron", "lake", "lynx", "maple", "meadow", "moon",
          "otter", "owl", "panda", "pine", "planet", "river", "robin", "sky", "sparrow", "star",
          "stream", "sun", "thunder", "tiger", "valley", "wave", "willow", "wolf")
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
_SAFE_DIR = re.compile(r"[^A-Za-z0-9._-]+")


def _random_index(n: int, k: int) -> list[int]:
    return [b % n for b in os.urandom(k)]


def random_tail(k: int = 6) -> str:
    return "".join(_ALPHABET[i] for i in _random_index(len(_ALPHABET), k))


def make_name() -> str:
    a, b, c = _random_index(256, 3)
    return f"{_ADJECTIVES[a % len(_ADJECTIVES)]}-{_NOUNS[b % len(_NOUNS)]}-{c % 99 + 1}"


def slugify(text: str, max_len: int = 40) -> str:
    """Any typed name → ``[a-z0-9._-]``, at most ``max_len`` chars, never empty."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", text.lower()).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)[:max_len].strip("-._")
    return slug or "run"


def safe_dir_name(text: str) -> str:
    """A project name → a folder name (case kept, unsafe characters → ``-``)."""
    name = _SAFE_DIR.sub("-", unicodedata.normalize("NFKD", str(text))
                         .encode("ascii", "ignore").decode("ascii")).strip("-.")
    return name[:100] or "default"


def is_safe_id(run_id: str) -> bool:
    return bool(_SAFE_ID.match(run_id)) and run_id not in (".", "..")


def create_run_dir(project_dir: str, name: str, started_at: float) -> tuple[str, str]:
    """Make a new, exclusive run folder; returns ``(run_id, path)``. Raises OSError."""
    os.makedirs(project_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started_at))
    slug = slugify(name)
    for _ in range(100):
        run_id = f"{stamp}-{slug}-{random_tail()}"
        path = os.path.join(project_dir, run_id)
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return run_id, path
    raise FileExistsError(f"could not find a free run id in {project_dir}")
