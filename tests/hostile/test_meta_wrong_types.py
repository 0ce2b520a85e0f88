"""meta.json fields of the wrong type or out of range are checked once, in the reader."""
import json

import pytest

from runpages import schema


def _meta(**fields):
    def mutate(bad, runs):
        meta = json.loads((bad / schema.META_FILE).read_text())
        meta.update(fields)
        (bad / schema.META_FILE).write_text(json.dumps(meta))
    return mutate


CASES = {
    "started_at far future": ({"started_at": 1e20}, "'started_at' is 1e+20, out of range"),
    "started_at negative": ({"started_at": -5.0}, "'started_at' is -5.0, out of range"),
    "ended_at text": ({"ended_at": "tomorrow"}, "'ended_at' is text, not a number"),
    "gpu names a number": ({"gpu": {"count": 1, "names": 5}}, "'gpu' is an object whose 'names'"),
    "gpu a list": ({"gpu": [1, 2]}, "'gpu' is a list, not an object"),
    "git a string": ({"git": "abc"}, "'git' is text, not an object"),
    "tags an object": ({"tags": {"a": 1}}, "'tags' is dict, not a list"),
    "command a number": ({"command": 5}, "'command' is a number"),
    "cpu_count huge": ({"cpu_count": 10 ** 30}, "'cpu_count' is"),
    "memory negative": ({"memory_gb": -1}, "'memory_gb' is -1, out of range"),
    "exit reason a list": ({"exit": {"reason": [1]}}, "'exit' is an object whose 'reason'"),
    "heartbeat NaN": ({"heartbeat_at": "NaN"}, "'heartbeat_at' is text"),
    "resumed_at strings": ({"resumed_at": ["x"]}, "'resumed_at' is a list holding text"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_meta_field_of_the_wrong_type_is_named_and_ignored(hostile_site, case):
    fields, problem = CASES[case]
    site = hostile_site(_meta(**fields))
    site.survived(problem)
    assert (site.out / "p/proj/r/20251124-130000-bad-cccccc/index.html").is_file()
