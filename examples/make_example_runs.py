"""Write example_runs/: a simulated week of a three-person ML team, through the real logger.

    python examples/make_example_runs.py [--out example_runs]

Everything here goes through ``logger`` exactly as a training script would, except what one
machine cannot produce: the runs are dated in the past (the logger's ``clock`` hook), the users,
hosts and git commits are those of an imaginary team, and the GPU readings come from a
simulation, recorded as ``system_source = "simulated"`` in each run's meta.json. The curves are
smooth functions plus seeded noise, so the output is the same on every machine.

The logbook: three projects, three users (ana, ben, chen):
* ``cifar10-resnet``: a learning-rate sweep (3 rates x 3 seeds, one group per rate), one run
  that diverged and crashed, one preempted (killed) run, and one run whose data loader ran with
  ``num_workers=0``: the GPU sat mostly idle while one CPU core was saturated.
* ``shakespeare-char``: a small character-level GPT, three variants, a CPU-only smoke test, and
  a two-GPU run launched without torchrun, so one GPU sat idle.
* ``vision-samples``: one run with media, all of it generated (labelled in its notes and tags):
  sample images with captions, weight histograms, a rollout video, a tone and a predictions table.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import zlib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import runpages  # noqa: E402

WEEK_START = 1794787200.0  # Mon 2026-11-16 00:00 UTC
DAY = 86400.0
GPU_NAME = "NVIDIA A100-SXM4-40GB (simulated)"
SIMULATED = "simulated (examples/make_example_runs.py)"

USERS = {
    "ana": {"host": "gpu-box-1", "branch": "main"},
    "ben": {"host": "gpu-box-2", "branch": "ben/lr-warmup"},
    "chen": {"host": "chen-workstation", "branch": "chen/dataloader"},
}


def team_member(user: str, commit: str, dirty: bool = False) -> dict:
    """meta.json's description of an imaginary teammate's machine, for ``init(meta=...)``."""
    info = USERS[user]
    return {"user": user, "host": info["host"], "os": "Linux-6.8.0-x86_64-with-glibc2.39",
            "python": "3.11.9", "cwd": f"/home/{user}/work/vision",
            "command": ["python", "train.py"], "cpu_count": 32, "memory_gb": 251.7,
            "git": {"commit": commit, "branch": info["branch"], "dirty": dirty,
                    "remote": "git@example.com:team/vision.git"},
            "gpu": {"count": 1, "names": [GPU_NAME]}}


def stable_id(start: float, name: str) -> str:
    """The id the logger would make, with a tail derived from the name so reruns match."""
    from runpages.names import slugify
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(start))
    tail = format(zlib.crc32(f"{start}:{name}".encode()), "x")[:6]
    return f"{stamp}-{slugify(name)}-{tail}"


def short(x: float) -> str:
    """3e-4 rather than 0.0003: how people write learning rates."""
    mantissa, exp = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exp)}"


class Clock:
    """The time the logger sees: advanced by the simulation, never by the wall clock."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def gpu_sample(rng: random.Random, util: float, mem_gb: float, n_gpus: int = 1) -> dict:
    sample = {}
    for i in range(n_gpus):
        u = max(0.0, min(100.0, rng.gauss(util, 4.0)))
        sample[f"gpu/{i}/util_pct"] = round(u, 1)
        sample[f"gpu/{i}/mem_used_gb"] = round(mem_gb + rng.gauss(0, 0.15), 2)
        sample[f"gpu/{i}/mem_total_gb"] = 40.0
        sample[f"gpu/{i}/mem_pct"] = round(100 * sample[f"gpu/{i}/mem_used_gb"] / 40.0, 1)
        sample[f"gpu/{i}/power_w"] = round(60 + 3.4 * u + rng.gauss(0, 6), 1)
        sample[f"gpu/{i}/temp_c"] = round(34 + 0.45 * u + rng.gauss(0, 1), 1)
    return sample


def cpu_sample(rng: random.Random, proc_pct: float, max_core: float, rss_gb: float) -> dict:
    return {
        "cpu/proc_pct": round(max(0.0, rng.gauss(proc_pct, 8)), 1),
        "cpu/host_pct": round(max(0.0, rng.gauss(proc_pct / 32, 1.5)), 1),
        "cpu/max_core_pct": round(min(100.0, max(0.0, rng.gauss(max_core, 3))), 1),
        "mem/proc_rss_gb": round(rss_gb + rng.gauss(0, 0.05), 2),
        "mem/host_pct": round(min(100.0, max(0.0, rng.gauss(31, 1))), 1),
    }


def fake_weights(tmp: Path, name: str, rng: random.Random, kib: int = 24) -> Path:
    """A small stand-in for a checkpoint file (real ones are far larger)."""
    path = tmp / name
    path.write_bytes(bytes(rng.getrandbits(8) for _ in range(kib * 1024)))
    return path


def cifar_run(out: Path, tmp: Path, *, user: str, lr: float, seed: int, start: float,
              commit: str, epochs: int = 30, workers: int = 8, crash_at: int | None = None,
              kill_at: int | None = None, tags: list[str] | None = None,
              name: str | None = None, notes: str | None = None) -> None:
    rng = random.Random(zlib.crc32(repr((user, lr, seed, workers)).encode()))
    steps_per_epoch, log_every = 390, 30
    total = epochs * steps_per_epoch
    slow = workers == 0
    step_time = 0.045 * (6.5 if slow else 1.0)
    # Final accuracy by learning rate, a little seed noise; lr 3e-3 diverges.
    quality = {1e-4: 0.885, 3e-4: 0.934, 1e-3: 0.917, 3e-3: 0.90}[lr] + rng.gauss(0, 0.003)
    config = {
        "model": "resnet18", "dataset": "cifar10", "optimizer": "adamw", "lr": lr,
        "weight_decay": 0.05, "batch_size": 128, "epochs": epochs, "seed": seed,
        "augment": {"crop": 32, "flip": True, "cutout": lr >= 1e-3},
        "data": {"num_workers": workers, "pin_memory": workers > 0},
        "amp": True,
    }
    clock = Clock(start)
    console = io.StringIO()
    with redirect_stdout(console), redirect_stderr(console):
        name = name or f"lr{short(lr)}-s{seed}"
        run = runpages.init(project="cifar10-resnet", name=name, id=stable_id(start, name),
                          dir=out, config=config, tags=tags or ["sweep"],
                          group=f"resnet18 lr={short(lr)}", notes=notes, clock=clock,
                          system_metrics=False, capture_console=True,
                          meta=team_member(user, commit, dirty=slow), save_code=False)
        print(f"==> training resnet18 on cifar10: lr={lr:g} seed={seed} workers={workers}")
        next_sample = start + 2.0
        best = 0.0
        for step in range(0, total + 1, log_every):
            clock.t = start + 20.0 + step * step_time * rng.uniform(0.97, 1.03)
            frac = step / total
            cos_lr = lr * 0.5 * (1 + math.cos(math.pi * frac))
            loss = 2.30 * math.exp(-6.0 * frac * (lr / 3e-4) ** 0.3) + (1 - quality) * 1.6
            loss *= 1 + rng.gauss(0, 0.04)
            if crash_at is not None and step >= crash_at * 0.8:
                loss *= math.exp((step - crash_at * 0.8) / 400)
            values = {"train/loss": loss if not (crash_at and step >= crash_at) else float("nan"),
                      "train/lr": cos_lr, "train/acc": max(0.1, min(0.999, 1 - loss / 2.6)),
                      "epoch": step / steps_per_epoch,
                      "perf/samples_per_s": 128 / step_time * rng.uniform(0.9, 1.05)}
            if step % steps_per_epoch == 0 and step > 0:
                epoch = step // steps_per_epoch
                acc = quality - (quality - 0.1) * math.exp(-5.5 * frac) + rng.gauss(0, 0.004)
                best = max(best, acc)
                values.update({"val/loss": loss * 1.08 + 0.05, "val/acc": acc})
                print(f"epoch {epoch:3d}  train/loss {loss:.4f}  val/acc {acc:.4f}")
            run.log(values, step=step)
            while next_sample <= clock.t:
                util, mem = (14.0, 7.9) if slow else (93.0, 22.5)
                sample = gpu_sample(rng, util, mem)
                sample.update(cpu_sample(rng, 105 if slow else 480,
                                         99.0 if slow else 62.0, 5.1))
                run.log_system(sample, time=next_sample, source=SIMULATED)
                next_sample += 10.0
            if crash_at is not None and step >= crash_at:
                clock.t += 1.0
                print("Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>"
                      "\nFloatingPointError: loss is NaN at step %d" % step, file=sys.stderr)
                run.finish(status="crashed",
                           reason=f"FloatingPointError: loss is NaN at step {step}")
                return
            if kill_at is not None and step >= kill_at:
                clock.t += 0.5
                print("received SIGTERM (job preempted by the scheduler)")
                run.finish(status="killed", reason="SIGTERM: preempted by the scheduler")
                return
        run.summary["best/val_acc"] = best
        run.summary["test/acc"] = best - abs(rng.gauss(0.004, 0.002))
        clock.t += 4.0
        run.log_artifact(fake_weights(tmp, "model.pt", rng), name="model", type="model")
        print(f"done: best val/acc {best:.4f}; saved model.pt")
        clock.t += 1.0
        run.finish()


def gpt_run(out: Path, tmp: Path, *, user: str, name: str, start: float, commit: str,
            dropout: float, n_layer: int, rope: bool, iters: int = 5000,
            notes: str | None = None, n_gpus: int = 1) -> None:
    rng = random.Random(zlib.crc32(repr((name, user)).encode()))
    floor = 1.47 - 0.04 * (n_layer - 6) - (0.03 if rope else 0.0) + (0.0 if dropout else 0.02)
    overfit = 0.0 if dropout >= 0.2 else 0.00004
    config = {"n_layer": n_layer, "n_head": 6, "n_embd": 384, "block_size": 256,
              "dropout": dropout, "rope": rope, "batch_size": 64, "lr": 1e-3,
              "max_iters": iters, "dataset": "shakespeare_char"}
    clock = Clock(start)
    console = io.StringIO()
    with redirect_stdout(console), redirect_stderr(console):
        run = runpages.init(project="shakespeare-char", name=name, id=stable_id(start, name),
                          dir=out, config=config,
                          tags=["gpt"] + (["rope"] if rope else []), notes=notes,
                          clock=clock, system_metrics=False, capture_console=True,
                          save_code=False, meta={**team_member(user, commit),
                                "gpu": {"count": n_gpus, "names": [GPU_NAME] * n_gpus}})
        iter_ms = 28.0 * n_layer / 6
        next_sample = start + 2.0
        energy = [3.6e9 + 1e8 * i for i in range(n_gpus)]  # NVML counts joules since driver load
        best = float("inf")
        for it in range(0, iters + 1, 10):
            clock.t = start + 15 + it * iter_ms / 1000 * rng.uniform(0.98, 1.02)
            frac = it / iters
            lr = 1e-3 * min(1.0, it / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
            loss = floor + (4.17 - floor) * math.exp(-it / 420) + rng.gauss(0, 0.02)
            values = {"train/loss": loss, "train/lr": lr, "tokens": it * 64 * 256,
                      "perf/iter_ms": iter_ms * rng.uniform(0.95, 1.1)}
            if it % 250 == 0:
                vloss = loss + 0.03 + overfit * it ** 1.3 / 10 + rng.gauss(0, 0.01)
                best = min(best, vloss)
                values.update({"val/loss": vloss, "val/ppl": math.exp(vloss)})
                print(f"iter {it}: train loss {loss:.4f}, val loss {vloss:.4f}")
            run.log(values, step=it)
            while next_sample <= clock.t:
                sample = gpu_sample(rng, 88.0, 11.0 + n_layer, n_gpus=n_gpus)
                for i in range(1, n_gpus):  # DDP never started on the other GPUs: they idle
                    sample.update({f"gpu/{i}/util_pct": 0.0, f"gpu/{i}/mem_used_gb": 0.4,
                                   f"gpu/{i}/mem_pct": 1.0, f"gpu/{i}/power_w": 55.0})
                for i in range(n_gpus):
                    energy[i] += sample[f"gpu/{i}/power_w"] * 10.0
                    sample[f"gpu/{i}/energy_j"] = round(energy[i], 1)
                sample.update(cpu_sample(rng, 110, 70.0, 3.2))
                run.log_system(sample, time=next_sample, source=SIMULATED)
                next_sample += 10.0
        run.summary["best/val_loss"] = best
        run.log_artifact(fake_weights(tmp, "ckpt.pt", rng, kib=32), name="checkpoint",
                         type="model")
        clock.t += 2.0
        run.finish()


def media_run(out: Path, *, start: float) -> None:
    """A run with sample images, a rollout video, a sound, a predictions table and weight
    histograms. Every sample is generated here (coloured shapes, a dot moving on a track, a
    tone), not the output of a model; the run's notes and tags say so."""
    import numpy as np

    rng = np.random.default_rng(7)
    sys_rng = random.Random(7)
    classes = ["circle", "square", "stripe"]
    clock = Clock(start)
    name = "resnet18-samples"
    run = runpages.init(project="vision-samples", name=name, id=stable_id(start, name), dir=out,
                        config={"model": "resnet18", "dataset": "shapes (generated)", "lr": 3e-4},
                        tags=["generated-media"], clock=clock, system_metrics=False,
                        capture_console=False, save_code=False, max_media_mb=4,
                        notes="GENERATED example: every image, video, sound and table row in "
                              "this run is synthetic (examples/make_example_runs.py).",
                        meta=team_member("ana", "4f1c2ab9e0d1"))
    yy, xx = np.mgrid[0:32, 0:32]

    def sample(label: int, noise: float):
        img = np.zeros((32, 32, 3))
        mask = [((yy - 16) ** 2 + (xx - 16) ** 2) < 100, (abs(yy - 16) < 9) & (abs(xx - 16) < 9),
                (yy // 4) % 2 == 0][label]
        img[mask] = [(0.9, 0.3, 0.2), (0.2, 0.6, 0.9), (0.3, 0.8, 0.3)][label]
        return np.clip(img + rng.normal(0, noise, img.shape), 0, 1)

    for epoch in range(5):
        for i in range(60):
            clock.t += 1.5
            step = epoch * 60 + i
            run.log({"train/loss": 1.2 * math.exp(-step / 90) + 0.05})
            if i % 20 == 0:
                run.log_system({**gpu_sample(sys_rng, 88.0, 6.1),
                                **cpu_sample(sys_rng, 140.0, 70.0, 3.2)}, source=SIMULATED)
        acc = 0.55 + 0.09 * epoch
        labels = rng.integers(0, 3, 12)
        preds = [int(lab) if rng.random() < acc else int((lab + 1) % 3) for lab in labels]
        run.log({"val/acc": acc,
                 "val/samples": [runpages.Image(sample(int(lab), 0.25 - 0.04 * epoch),
                                                caption=f"label {classes[lab]} / pred {classes[p]}")
                                 for lab, p in zip(labels, preds)],
                 "weights/fc1": runpages.Histogram(rng.normal(0, 1.0 / (1 + epoch), 2000)),
                 "weights/fc2": runpages.Histogram(rng.laplace(0.05 * epoch, 0.3, 2000))})
    frames = np.zeros((40, 48, 64, 3), np.uint8)
    for t in range(40):
        x, y = int(32 + 24 * math.cos(t / 6.4)), int(24 + 16 * math.sin(t / 6.4))
        frames[t, :, :] = (30, 30, 40)
        frames[t, max(0, y - 3):y + 3, max(0, x - 3):x + 3] = (250, 200, 40)
    wave_t = np.arange(8000) / 8000
    table = runpages.Table(columns=["id", "label", "pred", "confidence", "correct"])
    for i in range(200):
        lab = int(rng.integers(0, 3))
        p = lab if rng.random() < 0.88 else int((lab + 1) % 3)
        table.add_data(i, classes[lab], classes[p], round(float(rng.uniform(0.4, 1.0)), 3), p == lab)
    run.log({"rollout/episode": runpages.Video(frames, fps=12, format="gif",
                                               caption="simulated rollout (generated)"),
             "audio/tone": runpages.Audio(0.3 * np.sin(2 * np.pi * 440 * wave_t), sample_rate=8000,
                                          caption="440 Hz tone (generated)"),
             "val/predictions": table})
    clock.t += 5
    run.finish()


def day_at(d: int, h: int, m: int = 0) -> float:
    return WEEK_START + d * DAY + h * 3600 + m * 60


def make_logbook(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    day = day_at
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # Monday/Tuesday: ana sweeps 3e-4 and 1e-3, ben 1e-4.
        for i, seed in enumerate((0, 1, 2)):
            cifar_run(out, tmp, user="ana", lr=3e-4, seed=seed, start=day(0, 9 + i, 5),
                      commit="4f1c2ab9e0d1", tags=["sweep", "baseline"] if seed == 0 else None)
            cifar_run(out, tmp, user="ana", lr=1e-3, seed=seed, start=day(1, 9 + i, 20),
                      commit="4f1c2ab9e0d1")
            cifar_run(out, tmp, user="ben", lr=1e-4, seed=seed, start=day(1, 14 + i, 0),
                      commit="9b7d33c01f2e")
        cifar_run(out, tmp, user="ben", lr=3e-3, seed=0, start=day(2, 10, 30),
                  commit="9b7d33c01f2e", crash_at=6000, name="lr3e-3-no-warmup",
                  notes="Trying a high LR without warmup. Diverged around epoch 15.")
        cifar_run(out, tmp, user="ben", lr=3e-4, seed=3, start=day(2, 16, 0),
                  commit="9b7d33c01f2e", kill_at=4200, name="lr3e-4-s3-preempted")
        cifar_run(out, tmp, user="chen", lr=3e-4, seed=0, start=day(3, 11, 0),
                  commit="c0ffee123456", workers=0, name="resnet18-new-loader",
                  notes="New on-the-fly augmentation loader. Forgot to set num_workers.",
                  epochs=10)
        gpt_run(out, tmp, user="chen", name="baseline-6L", start=day(3, 15, 0),
                commit="a1b2c3d4e5f6", dropout=0.0, n_layer=6, rope=False)
        gpt_run(out, tmp, user="chen", name="dropout-0.2", start=day(4, 9, 30),
                commit="a1b2c3d4e5f6", dropout=0.2, n_layer=6, rope=False,
                notes="Baseline overfits after ~2k iters; dropout 0.2 fixes it.")
        gpt_run(out, tmp, user="ana", name="rope-8L", start=day(4, 13, 0),
                commit="d00dfeed7788", dropout=0.2, n_layer=8, rope=True)
        gpt_run(out, tmp, user="chen", name="cpu-smoke-test", start=day(4, 8, 0),
                commit="a1b2c3d4e5f6", dropout=0.0, n_layer=2, rope=False, iters=300, n_gpus=0,
                notes="Checks the training loop on the laptop CPU before queueing GPU jobs.")
        gpt_run(out, tmp, user="ben", name="rope-8L-2gpu", start=day(4, 16, 0),
                commit="d00dfeed7788", dropout=0.2, n_layer=8, rope=True, n_gpus=2,
                notes="Asked for two GPUs; launched without torchrun, so one did all the work.")
        media_run(out, start=day(0, 17, 0))
    # Two reports the team wrote about the week (see README, "Reports").
    shutil.copytree(ROOT / "examples" / "reports", out / "reports")
    record_checks(out)


def record_checks(out: Path) -> None:
    """The CI gate's records for two branches, as `runpages check` keeps them (see README,
    "Gate a pull request on a metric"): chen's loader change holds val/acc against main,
    ben's warmup branch regressed it. Shown on the project's Checks page."""
    from runpages.sitegen.check import check
    from runpages.sitegen.cli import make_parser

    runs = {json.loads(p.read_text())["name"]: p.parent.name
            for p in (out / "cifar10-resnet").glob("*/meta.json")}
    for name, at in (("resnet18-new-loader", day_at(3, 11, 30)), ("lr1e-4-s0", day_at(1, 15, 0))):
        args = make_parser().parse_args(
            ["check", str(out), "--project", "cifar10-resnet", "--run", runs[name],
             "--baseline-branch", "main", "--rule", "val/acc:max:0.005"])
        check(args, env={}, now=at)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "example_runs")
    args = parser.parse_args(argv)
    os.environ.pop("RUNPAGES_MODE", None)
    make_logbook(args.out)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    runs = sum(1 for _ in args.out.glob("*/*/meta.json"))
    print(f"wrote {runs} runs to {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
