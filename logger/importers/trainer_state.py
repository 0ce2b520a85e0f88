"""Hugging Face ``trainer_state.json``: ``log_history`` split into train and eval keys.

HF writes one ``log_history`` entry per ``on_log``; eval entries carry ``eval_``-prefixed keys
(``eval_g0_loss`` when several eval sets are named), train entries bare keys (``loss``,
``learning_rate``) and the last entry the run totals (``train_runtime``, ``train_loss``: these
go to the summary). Keys become ``eval/<rest>``, ``test/<rest>`` and ``train/<key>``
(``train/train_loss``), the spelling HF's W&B callback uses; ``epoch`` stays as it is. The
file has no times: the file's mtime stands in. A ``log_history`` that ends more than
``logging_steps`` before ``global_step`` (a damaged file) is imported with a problem saying so.
Checkpoints (``checkpoint-N/``, and ``last-checkpoint/`` that ``push_to_hub`` and
``hub_strategy="checkpoint"`` write) hold copies of the same history: only the furthest one of
each run is read, also when a checkpoint folder is the source.
"""
from __future__ import annotations

import json
import os
from typing import Iterator

from .common import Imported, Problem, history_shorter, read_text, walk_files

FORMAT = "trainer_state"
FILE = "trainer_state.json"
_PREFIXES = (("eval_", "eval/"), ("test_", "test/"), ("predict_", "predict/"))
# Keys only the entry HF logs once when training ends has (with total_flos and train_loss).
_TOTALS = ("train_runtime", "train_samples_per_second", "train_steps_per_second")
_CONFIG_KEYS = ("train_batch_size", "num_train_epochs", "max_steps", "logging_steps",
                "eval_steps", "save_steps", "is_hyper_param_search", "trial_name", "trial_params")
_SUMMARY_KEYS = ("best_metric", "best_model_checkpoint", "best_global_step", "global_step",
                 "epoch", "total_flos", "num_input_tokens_seen")


def split_key(key: str) -> str:
    """``eval_loss`` → ``eval/loss``, ``loss`` → ``train/loss``, ``train_loss`` (the run's
    average, logged once at the end) → ``train/train_loss``, ``epoch`` stays."""
    if key in ("epoch", "step"):
        return key
    for prefix, group in _PREFIXES:
        if key.startswith(prefix):
            return group + key[len(prefix):]
    return "train/" + key


def is_totals(entry: dict) -> bool:
    """Whether a log entry is the run's totals, logged once at the end: summary, not a step."""
    return any(k in entry for k in _TOTALS)


def detect(path: str) -> bool:
    if os.path.isfile(path):
        if os.path.basename(path) == FILE:
            return True
        if path.endswith(".json"):
            try:
                with open(path, encoding="utf-8") as f:
                    return "log_history" in f.read(1 << 16)
            except OSError:
                return False
        return False
    return bool(_files(path))


def _files(folder: str) -> list[str]:
    return [p for p in walk_files(folder) if os.path.basename(p) == FILE]


def is_checkpoint_dir(name: str) -> bool:
    return name.startswith("checkpoint-") or name == "last-checkpoint"


def _furthest(paths: list[str]) -> list[str]:
    """Of ``out/checkpoint-N/`` and ``out/last-checkpoint/`` trainer states keep one per output
    folder: the file at the top of the folder when there is one (HF writes it at the end), else
    the highest step."""
    best: dict[str, tuple[tuple[bool, int], str]] = {}
    for p in paths:
        parent = os.path.dirname(p)
        in_checkpoint = is_checkpoint_dir(os.path.basename(parent))
        key = os.path.dirname(parent) if in_checkpoint else parent
        try:
            with open(p, encoding="utf-8") as f:
                step = int(json.load(f).get("global_step") or 0)
        except (OSError, ValueError, AttributeError, TypeError):
            step = -1
        rank = (not in_checkpoint, step)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, p)
    return [p for _, p in best.values()]


def _final_copy(path: str) -> str:
    """A checkpoint's trainer state → the furthest one of its output folder: the same run,
    so importing ``out/checkpoint-500/`` after ``out/`` finds the run already imported."""
    parent = os.path.dirname(os.path.abspath(path))
    if not is_checkpoint_dir(os.path.basename(parent)):
        return path
    out = os.path.dirname(parent)
    try:
        names = sorted(os.listdir(out))
    except OSError:
        return path
    copies = [os.path.join(out, FILE)] + [os.path.join(out, d, FILE) for d in names
                                          if is_checkpoint_dir(d)]
    return next(iter(_furthest([p for p in copies if os.path.isfile(p)])), path)


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    paths = [source] if os.path.isfile(source) else _furthest(_files(source))
    for path in dict.fromkeys(_final_copy(p) for p in paths):
        yield read_file(path)


def salvage_history(text: str) -> list:
    """The complete entries of ``"log_history": [...]`` in a cut-off or damaged file."""
    start = text.find('"log_history"')
    start = text.find("[", start) + 1 if start >= 0 else 0
    if start <= 0:
        return []
    decoder, entries, pos = json.JSONDecoder(), [], start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            entry, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return entries
        entries.append(entry)


def read_file(path: str) -> Imported:
    folder = os.path.dirname(os.path.abspath(path))
    imp = Imported(format=FORMAT, source=path, name=os.path.basename(folder) or FILE,
                   hash_files=[path])
    text = read_text(path, imp)
    if text is None:
        return imp
    try:
        state = json.loads(text)
    except ValueError as exc:
        state = {"log_history": salvage_history(text)}
        imp.problems.append(Problem(path, getattr(exc, "lineno", None),
                                    f"not valid JSON ({exc.msg}); the "
                                    f"{len(state['log_history'])} complete log_history entries "
                                    "before it were imported"))
    if not isinstance(state, dict):
        imp.problems.append(Problem(path, None, "expected a JSON object"))
        return imp
    imp.config = {k: state[k] for k in _CONFIG_KEYS if k in state}
    history = state.get("log_history")
    if not isinstance(history, list):
        imp.problems.append(Problem(path, None, "no log_history list"))
        history = []
    for i, entry in enumerate(history):
        if not isinstance(entry, dict) or "step" not in entry:
            imp.problems.append(Problem(path, None, f"log_history[{i}] has no step; skipped"))
            continue
        step = entry["step"]
        if is_totals(entry):
            for k, v in entry.items():
                if k not in ("step", "epoch"):
                    imp.summary[split_key(k)] = v
            continue
        values = {split_key(k): v for k, v in entry.items() if k != "step"}
        imp.add(step, None, values)
    for k in _SUMMARY_KEYS:
        if state.get(k) is not None:
            imp.summary[k] = state[k]
    slack = state.get("logging_steps") if isinstance(state.get("logging_steps"), int) else 0
    problem = history_shorter(imp, state.get("global_step"), "its global_step", slack)
    if problem:
        imp.problems.append(problem)
    return imp
