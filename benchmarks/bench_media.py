"""Cost of media logging next to floors measured in the same run, on the same machine.

    python benchmarks/bench_media.py            # 2,000 steps of 2 ms, 200 images for the page
    python benchmarks/bench_media.py --steps 500 --step-ms 0

Rows:
* ``log()`` on the training thread with 4 scalars, and with 4 scalars plus one 224x224x3 uint8
  ``runpages.Image`` (median and p99 per call). The image row only queues a reference; the
  floor is the scalar-only row (the promise: within a few microseconds of it). Images are
  logged every 10th step, as an eval loop would; each step does ``--step-ms`` of work, half
  Python and half GIL-free (a stand-in for the loop and torch ops), so the queue does not fill.
* ``log()`` over every call of the image run: the scalar steps while the media thread encodes
  (GIL contention shows here, not in the queuing call itself).
* What the GIL leaves the training thread: its pure-Python speed while PNGs encode in a loop
  on another thread, as a share of its idle speed; numpy+zlib (what the logger uses: deflate
  releases the GIL) next to Pillow's PNG encoder (holds it), the reason for the choice.
* Encoding throughput of the media thread: 224x224 PNGs per second (numpy+zlib; Pillow for
  reference), WAV seconds per second, a 1,000-row table.
* Run page weight with 200 images (512x512, so thumbnails exist): HTML, images the grid loads
  (thumbnails of the shown step only: the grid loads one step at a time), everything copied.
* Build time per 100 images.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def train_step(ms: float) -> None:
    """A training step's own work: half Python (holds the GIL, as a data loader and the loop
    do), half C code that releases it (as torch ops do)."""
    if ms > 0:
        end = time.perf_counter() + ms / 2000
        while time.perf_counter() < end:
            pass
        time.sleep(ms / 2000)


def per_call(run, make, steps: int, step_ms: float = 0.0) -> tuple[float, float]:
    ns = []
    clock = time.perf_counter_ns
    for s in range(steps):
        train_step(step_ms)
        values = make(s)
        t = clock()
        run.log(values)
        ns.append(clock() - t)
    ns.sort()
    return ns[len(ns) // 2] / 1000, ns[int(len(ns) * 0.99)] / 1000


def pillow_png(img) -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def python_speed(encode, seconds: float = 1.5) -> float:
    """Loops of pure Python per second on this thread while another thread runs ``encode`` in
    a loop (None: nothing else runs). The ratio to the idle speed is what the GIL leaves."""
    import threading
    stop = threading.Event()
    if encode is not None:
        worker = threading.Thread(target=lambda: [encode() for _ in iter(stop.is_set, True)], daemon=True)
        worker.start()
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(100))
        n += 1
    stop.set()
    if encode is not None:
        worker.join()
    return n / seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--step-ms", type=float, default=2.0,
                    help="each step's own work (half Python, half GIL-free); with an image every 10th step "
                         "the media thread keeps up, so nothing is dropped (0: log as fast as possible)")
    ap.add_argument("--images", type=int, default=200)
    args = ap.parse_args(argv)
    import numpy as np

    import runpages
    from runpages import media_encode
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (224, 224, 3), dtype=np.uint8)
    tmp = Path(tempfile.mkdtemp(prefix="bench-media-"))

    def start(name):
        return runpages.init(project="bench", name=name, dir=str(tmp / "runs"), system_metrics=False,
                             capture_console=False, save_code=False)

    scal = lambda s: {"a": 1.0 * s, "b": 2.0, "c": 3.0, "d": 4.0}
    run = start("scalars")
    med0, p990 = per_call(run, scal, args.steps, args.step_ms)
    run.finish()
    run = start("image")
    with_img = lambda s: {**scal(s), "sample": runpages.Image(img)} if s % 10 == 0 else scal(s)
    t0 = time.perf_counter()
    clock = time.perf_counter_ns
    ns_img, ns_all = [], []
    run.log({"warm": runpages.Image(img[:2, :2])})     # the media thread starts on first media
    for s in range(args.steps):
        train_step(args.step_ms)
        v = with_img(s)
        t = clock()
        run.log(v)
        ns_all.append(clock() - t)
        if s % 10 == 0:
            ns_img.append(ns_all[-1])
    run.finish()
    q = lambda ns, p: sorted(ns)[min(len(ns) - 1, int(len(ns) * p))] / 1000  # noqa: E731
    med1, p991 = q(ns_img, 0.5), q(ns_img, 0.99)
    print(f"log() 4 scalars                      median {med0:7.1f} us   p99 {p990:7.1f} us")
    print(f"log() 4 scalars + one 224x224 Image  median {med1:7.1f} us   p99 {p991:7.1f} us"
          f"   ({med1 / med0:.1f}x the scalar floor; finish incl. encoding {time.perf_counter() - t0:.2f} s)")
    print(f"log() every call of that run         median {q(ns_all, 0.5):7.1f} us   p99 {q(ns_all, 0.99):7.1f} us"
          f"   (the scalar steps while the media thread encodes)")
    idle = python_speed(None)
    for label, fn in (("numpy+zlib (used)", lambda: media_encode.png_bytes(img)),
                      ("Pillow (not used)", lambda: pillow_png(img))):
        print(f"training-thread Python speed while PNGs encode, {label:18s} {python_speed(fn) / idle:5.0%} of idle")

    def rate(fn, n):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return n / (time.perf_counter() - t)
    print(f"encode 224x224 PNG (numpy+zlib)      {rate(lambda: media_encode.encode_array_image(img), 50):7.0f} /s")
    print(f"encode 224x224 PNG (Pillow, for reference) {rate(lambda: pillow_png(img), 20):7.0f} /s")
    wav = np.sin(np.arange(22050 * 10) / 7.0)
    print(f"encode WAV, 10 s at 22.05 kHz        {rate(lambda: media_encode.encode_wav(wav, 22050), 10) * 10:7.0f} s of audio /s")
    rows = [[i, f"text {i}", i / 3] for i in range(1000)]
    print(f"encode 1,000-row table               {rate(lambda: media_encode.encode_table(['i', 't', 'x'], rows), 20):7.0f} /s")

    # A run with N images over N/10 steps; build it and weigh the page.
    run = start("page")
    big = rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)
    for s in range(args.images // 10):
        run.log({"grid": [runpages.Image(np.roll(big, k + s, axis=1)) for k in range(10)]})
    run.finish()
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig
    site = tmp / "site"
    t = time.perf_counter()
    build_site(SiteConfig(runs_dirs=[tmp / "runs"], output=site))
    took = time.perf_counter() - t
    (page,) = site.glob("p/bench/r/*page*/index.html")
    files = list(site.glob("files/bench/*page*/media/grid/*"))
    thumbs = [f for f in files if ".thumb." in f.name]
    shown = sorted(thumbs)[-10:]
    print(f"run page with {args.images} images: HTML {page.stat().st_size / 1024:.0f} KiB; the grid loads "
          f"{sum(f.stat().st_size for f in shown) / 1024:.0f} KiB of thumbnails for one step; "
          f"all copied media {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB")
    print(f"build of the site (3 runs, {args.images} images): {took:.2f} s "
          f"({took / args.images * 100:.2f} s per 100 images, everything else included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
