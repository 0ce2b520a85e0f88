"""What a user may pass to log() and what lands in the file."""
from __future__ import annotations

import enum
import math
import sys

import pytest

from runpages import encode
from runpages.warn import RunpagesWarning


def enc(values: dict) -> tuple[dict, list[str]]:
    out: dict = {}
    skipped: list[str] = []
    encode.encode_into(out, values, lambda k, v: skipped.append(k))
    return out, skipped


def test_python_scalars_are_kept():
    out, skipped = enc({"f": 0.5, "i": 3, "b": True, "s": "warmup", "n": None})
    assert out == {"f": 0.5, "i": 3, "b": True, "s": "warmup", "n": None}
    assert type(out["b"]) is bool and not skipped


@pytest.mark.parametrize("value, token", [(math.nan, "NaN"), (math.inf, "Infinity"),
                                          (-math.inf, "-Infinity")])
def test_non_finite_floats_become_tokens(value, token):
    out, _ = enc({"x": value})
    assert out == {"x": token}
    assert encode.dumps(out) == f'{{"x":"{token}"}}'
    assert encode.decode_nonfinite(token) == value or math.isnan(encode.decode_nonfinite(token))


def test_nested_dicts_are_flattened_with_slash():
    out, _ = enc({"train": {"loss": 1.0, "opt": {"lr": 0.1}}, "val/acc": 0.5})
    assert out == {"train/loss": 1.0, "train/opt/lr": 0.1, "val/acc": 0.5}


def test_non_string_keys_become_strings():
    out, _ = enc({1: 2.0, "layer": {0: 1.5}})
    assert out == {"1": 2.0, "layer/0": 1.5}


def test_numpy_scalars_and_0d_arrays():
    np = pytest.importorskip("numpy")
    out, skipped = enc({"f32": np.float32(0.5), "f64": np.float64(0.25), "i64": np.int64(7),
                        "b": np.bool_(True), "a0": np.array(1.5), "nan": np.float32("nan"),
                        "inf": np.array(np.inf)})
    assert out == {"f32": 0.5, "f64": 0.25, "i64": 7, "b": True, "a0": 1.5, "nan": "NaN",
                   "inf": "Infinity"}
    assert type(out["i64"]) is int and type(out["b"]) is bool and type(out["f32"]) is float
    assert not skipped


def test_numpy_arrays_with_elements_are_skipped_not_written():
    np = pytest.importorskip("numpy")
    out, skipped = enc({"big": np.zeros((100, 100)), "ok": 1.0})
    assert out == {"ok": 1.0} and skipped == ["big"]


def test_torch_scalars_and_tensors():
    torch = pytest.importorskip("torch")
    loss = torch.tensor(0.5, requires_grad=True) * 2
    out, skipped = enc({"loss": loss, "i": torch.tensor(3), "b": torch.tensor(True),
                        "bf16": torch.tensor(0.5, dtype=torch.bfloat16),
                        "nan": torch.tensor(float("nan")), "vec": torch.ones(3)})
    assert out == {"loss": 1.0, "i": 3, "b": True, "bf16": 0.5, "nan": "NaN"}
    assert skipped == ["vec"]


def test_encoding_imports_neither_numpy_nor_torch(tmp_path):
    import subprocess
    code = ("import sys, runpages.encode as e; out={}; e.encode_into(out, {'a': 1.0, 'b': "
            "object()}, lambda k, v: None); "
            "print(sorted(m for m in ('numpy','torch') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert res.stdout.strip() == "[]", res.stderr


class Color(enum.IntEnum):
    RED = 1


class MyFloat(float):
    pass


def test_int_and_float_subclasses_become_plain_values():
    out, _ = enc({"c": Color.RED, "f": MyFloat(2.5), "nf": MyFloat("inf")})
    assert out == {"c": 1, "f": 2.5, "nf": "Infinity"}
    assert type(out["c"]) is int and type(out["f"]) is float


def test_unknown_objects_are_skipped():
    out, skipped = enc({"obj": object(), "list": [1, 2], "ok": 1})
    assert out == {"ok": 1} and sorted(skipped) == ["list", "obj"]


def test_unencodable_value_warns_once_and_the_rest_is_written(live_run, files):
    run = live_run()
    with pytest.warns(RunpagesWarning, match="cannot log object for 'model'") as record:
        for _ in range(5):
            run.log({"loss": 1.0, "model": object()})
    assert sum("cannot log" in str(w.message) for w in record) == 1
    repeated = r"repeated.*cannot log object for 'model' \(5 times\)"
    with pytest.warns(RunpagesWarning, match=repeated):
        run.finish()  # repeats fold into one line with a count
    assert [r["loss"] for r in files.metrics(run.dir)] == [1.0] * 5
    assert all("model" not in r for r in files.metrics(run.dir))


def test_config_values_of_unknown_types_are_kept_as_text():
    class Thing:
        def __str__(self):
            return "thing!"
    tree = encode.to_json_tree({"t": Thing(), "c": Color.RED, "s": {3, 1}, "nan": math.nan})
    assert tree == {"t": "thing!", "c": 1, "s": [1, 3], "nan": "NaN"}
