"""The one exception root of runpages, in the base layer every part may import.

``RunpagesError`` is an expected failure whose message is written for the person running
``runpages``: the file (and line) first, then what is wrong and what to do. It carries the exit
code the CLI returns; only ``runpages.sitegen.cli`` prints it (``runpages: error: ...``) and
exits. Anything that is not a ``RunpagesError`` is a bug and keeps its traceback. The logger
itself never raises one after ``init`` (it warns instead).
"""
from __future__ import annotations


class RunpagesError(Exception):
    """An expected failure; ``str(err)`` is the whole message shown to the user."""

    exit_code = 1
