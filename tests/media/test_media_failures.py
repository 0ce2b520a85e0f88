"""Media never raises into training: bad values, a queue that falls behind, the size budget;
and the reader keeps only whole, well-placed index entries."""
from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path

import numpy as np

import runpages
from runpages import media
from tests.media.helpers import read, start


class Slow(media.Media):
    kind = "image"

    def __init__(self, gate):
        self.gate = gate

    def encode(self):
        self.gate.wait(10)
        return media.Encoded(b"\x89PNG-not-really", "png")


def test_log_never_waits_for_encoding_and_the_oldest_pending_media_of_a_key_is_dropped(tmp_path):
    from runpages import media_writer
    gate = threading.Event()
    run = start(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        for s in range(media_writer.MAX_PENDING + 10):
            run.log({"loss": float(s), "slow": Slow(gate)})
        took = time.perf_counter() - t0
        gate.set()
        run.finish()
    assert took < 5.0                                     # would be 10 s per call if log() waited
    msgs = [str(w.message) for w in caught if str(w.message).startswith("runpages: media encoding is behind")]
    assert len(msgs) == 1 and "'slow'" in msgs[0] and "dropped" in msgs[0]
    r, _ = read(run)
    assert len(r.metrics) == media_writer.MAX_PENDING + 10   # every metric kept
    steps = sorted(m.step for m in r.media)
    assert 0 < len(steps) < media_writer.MAX_PENDING + 10 and steps[-1] == media_writer.MAX_PENDING + 9


def test_an_unencodable_value_warns_once_and_training_continues(tmp_path):
    run = start(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for s in range(3):
            run.log({"bad": runpages.Image(np.zeros((2, 3, 5, 7))), "ok": runpages.Image(np.zeros((2, 2)))})
            run.log({"obj": runpages.Image(object())})
        run.finish()
    texts = [str(w.message) for w in caught]
    assert sum(t.startswith("runpages: cannot encode image for 'bad'") for t in texts) == 1
    assert sum(t.startswith("runpages: cannot encode image for 'obj'") for t in texts) == 1
    r, _ = read(run)
    assert {m.key for m in r.media} == {"ok"}


def test_media_past_max_media_mb_is_skipped_with_one_warning(tmp_path):
    run = start(tmp_path, max_media_mb=0.05)               # ~50 KB
    rng = np.random.default_rng(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(10):
            run.log({"noise": runpages.Image(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))})
        run.finish()
    assert sum(str(w.message).startswith("runpages: this run's media passed max_media_mb")
               for w in caught) == 1
    size = sum(p.stat().st_size for p in (Path(run.dir) / "media").rglob("*") if p.is_file())
    assert size <= 0.05 * 2 ** 20


def test_a_torn_last_index_line_is_ignored_and_bad_lines_are_problems(tmp_path):
    run = start(tmp_path)
    run.log({"img": runpages.Image(np.zeros((2, 2), np.uint8))})
    run.finish()
    index = Path(run.dir) / "media.jsonl"
    good = index.read_text()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (Path(run.dir) / "media" / "link.png").symlink_to(outside)
    index.write_text(good
                     + '{"step": 1, "key": "img", "kind": "image", "file": "../../secret.png"}\n'
                     + '{"step": 1, "key": "img", "kind": "image", "file": "media/link.png"}\n'
                     + '{"step": 1, "key": "img", "kind": "image", "file": "media/img/nope.png"}\n'
                     + '{"step": "x", "key": "img", "kind": "image", "file": "media/img/a.png"}\n'
                     + '{"step": 1, "key": "img", "kind": "sound", "file": "media/img/a.png"}\n'
                     + 'not json\n'
                     + '{"step": 2, "key": "img", "kind": "im')
    r, problems = read(run)
    assert len(r.media) == 1
    reasons = [p.reason for p in problems if p.path.endswith("media.jsonl")]
    assert len(reasons) == 6
    assert sum("outside the run's media folder" in x for x in reasons) == 3
    assert any("unknown media kind" in x for x in reasons)
