"""Expected failures, with messages written for the person running ``runpages``.

Every class here is a ``RunpagesError`` (``runpages.errors``, the one root): ``cli.main`` prints
its message after ``runpages: error:`` and returns its ``exit_code``. Messages name the file
(and line, when there is one) first, like a compiler.
"""
from __future__ import annotations

from runpages.errors import RunpagesError


class SiteError(RunpagesError):
    """The site generator's input is wrong (exit 1); ``str(err)`` is the whole message."""


class ConfigError(SiteError):
    """Every problem found in the settings at once; each names its key."""

    def __init__(self, problems: list[str], source: str = "runpages.toml"):
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + "".join(f"\n  - {p}" for p in self.problems))


class FormatVersionError(SiteError):
    """A run written by a newer runpages than this one: reading it could misread it."""

    def __init__(self, path: str, version: object, supported: int):
        self.path = str(path)
        self.version = version
        self.supported = supported
        super().__init__(
            f"{self.path}: written by a newer runpages (format {version}); "
            f"upgrade runpages to read it (this one reads format {supported} and older)"
        )


class ProblemsError(SiteError):
    """``--strict``: the build found Problems in the runs and must fail."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        count = len(self.lines)
        super().__init__(
            f"--strict: {count} file{'s' if count != 1 else ''} with problems"
            + "".join(f"\n  {line}" for line in self.lines)
        )
