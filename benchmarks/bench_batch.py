"""Archive throughput: `colorize-hub colorize` over a folder against a plain loop of `colorize()` calls, in one run.

Writes --photos generated 1024x768 JPEGs (smooth gray scenes with noise, so decoding and PNG encoding cost what
real photos cost), then times, on the same files and model, alternating (loop, batch, loop, batch, ...) so that
a noisy machine skews neither:
- loop: `colorize()` then `Image.save(png)` per photo, one after another;
- batch: `run_jobs` (what the command line runs): batched forward, decode and write in worker threads.
Prints photos/s of each (median over --rounds) and their ratio, with the CPU it ran on.

    python benchmarks/bench_batch.py [--photos 500] [--rounds 1] [--model colorizer-encoder-unet] [--batch-size 8]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from colorize_hub import DEFAULT_MODEL, colorize, load_colorizer  # noqa: E402
from colorize_hub.hardware import cpu_description  # noqa: E402
from colorize_hub.media.batch import plan, run_jobs  # noqa: E402


def write_photos(folder: Path, count: int, size=(1024, 768)) -> None:
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 215, size[0])[None, :] + np.linspace(-30, 30, size[1])[:, None]
    for index in range(count):
        pixels = ramp + rng.normal(0, 12, (size[1], size[0])) + 40 * np.sin(index + ramp / 60)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").save(folder / f"{index:04d}.jpg", quality=90)


def time_loop(photos: list[Path], out: Path, model: str) -> float:
    start = time.perf_counter()
    for photo in photos:
        colorize(photo, model=model).save(out / f"{photo.stem}_color.png")
    return time.perf_counter() - start


def time_batch(folder: Path, out: Path, model: str, batch_size: int) -> float:
    jobs, _ = plan([str(folder)], out)
    start = time.perf_counter()
    report = run_jobs(jobs, model, batch_size=batch_size, progress=False)
    assert len(report.done) == len(jobs), report.summary()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    load_colorizer(args.model)  # loading is not part of either figure
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        folder = work / "photos"
        folder.mkdir()
        write_photos(folder, args.photos)
        photos = sorted(folder.glob("*.jpg"))
        loop, batch = [], []
        for round_ in range(args.rounds):
            for name, times, run in (("loop", loop, lambda out: time_loop(photos, out, args.model)),
                                     ("batch", batch, lambda out: time_batch(folder, out, args.model, args.batch_size))):
                out = work / f"{name}-{round_}"
                out.mkdir()
                times.append(run(out))
                shutil.rmtree(out)
                print(f"round {round_ + 1} {name}: {args.photos / times[-1]:.2f} photos/s", flush=True)
        loop_rate, batch_rate = args.photos / statistics.median(loop), args.photos / statistics.median(batch)
        print(f"\nCPU: {cpu_description()}; model {args.model}; {args.photos} photos of 1024x768; "
              f"batch size {args.batch_size}")
        print(f"plain colorize() loop: {loop_rate:.2f} photos/s; colorize-hub colorize: {batch_rate:.2f} photos/s; "
              f"ratio {batch_rate / loop_rate:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
