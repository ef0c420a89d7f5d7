"""Training-data loading speed (images/s): lazy decoding with 0, 1 and 2 DataLoader workers, the in-memory cache
after its first pass, and a `datasets` imagefolder (arrow cache), through the same crops and Lab conversion as
training (random resized crop, batch of model inputs).

    python benchmarks/bench_data.py [--folder ~/colorize-data/miniplaces/train/b/bakery] [--size 128] [--batch 32]

Each setting runs `--epochs` shuffled passes over the folder; the rate printed is the median over the passes after
the first (the first pass fills the cache and the OS file cache). Worker processes start afresh every pass, as they
do under Trainer's default (`dataloader_persistent_workers` off), so their start-up is part of the figure.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from colorize_hub.training.data import ColorizationImageFolder, hub_dataset  # noqa: E402


def images_per_second(dataset, batch: int, workers: int, epochs: int) -> float:
    """Median rate of the passes after the first over `dataset` through a shuffling DataLoader."""
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True)
    rates = []
    for _ in range(epochs):
        start, seen = time.perf_counter(), 0
        for inputs in loader:
            seen += len(inputs["pixel_values"])
        rates.append(seen / (time.perf_counter() - start))
    return statistics.median(rates[1:])


def arrow_dataset(folder: str, size: int):
    """`datasets` imagefolder of `folder` (its arrow cache built in a temporary folder first, timed apart)."""
    os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="bench-data-")
    start = time.perf_counter()
    dataset = hub_dataset("imagefolder", "train", size, True, data_dir=folder)
    print(f"datasets imagefolder: arrow cache built in {time.perf_counter() - start:.1f} s")
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default="~/colorize-data/miniplaces/train/b/bakery")
    parser.add_argument("--size", type=int, default=128, help="side of the random crops")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4, help="passes per setting (the first one is not counted)")
    parser.add_argument("--no_datasets", action="store_true", help="skip the datasets imagefolder setting")
    args = parser.parse_args()
    folder = os.path.expanduser(args.folder)

    start = time.perf_counter()
    lazy = ColorizationImageFolder(folder, args.size, train=True)
    print(f"{len(lazy)} images under {folder}, listed in {time.perf_counter() - start:.2f} s; "
          f"crop {args.size}, batch {args.batch}, {torch.get_num_threads()} torch thread(s) in the main process")
    settings = [(f"lazy decode, {w} worker(s)", lazy, w) for w in (0, 1, 2)]
    settings.append(("in-memory cache (after its first pass), 0 workers",
                     ColorizationImageFolder(folder, args.size, train=True, cache=True), 0))
    if not args.no_datasets:
        settings.append(("datasets imagefolder (arrow), 0 workers", arrow_dataset(folder, args.size), 0))
    print("| loader | images/s |\n|---|---|")
    for name, dataset, workers in settings:
        print(f"| {name} | {images_per_second(dataset, args.batch, workers, args.epochs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
