"""Per-pixel accuracy of colorizers on CIFAR-10 horses under the seed U-Net's protocol (24 colours).

The palette is 24 k-means centres fitted in RGB to every pixel of the training horses (fixed seed); a pixel is
right when the output and the ground truth have the same nearest centre. Each test photo (32x32, native) goes
through `colorize()`; the gray row is the photo's own L with ab = 0. Prints a markdown table (about 3 minutes on
one thread: half fitting the palette with 10 k-means restarts, half scoring all 993 test horses with two models):

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python scripts/seed_protocol_accuracy.py

The seed U-Net reports 59.8% on its validation horses under this protocol (with its own k-means centres).
Palettes fitted with --seed 0 to 4 move every row by at most 0.1 point.
"""

import argparse
import time

import torch

from colorize_hub import colorize
from colorize_hub.evaluation.protocol import MEASURED_PRECISION, gray_image, load_protocol_image, to_tensor
from colorize_hub.evaluation.rgb_palette_accuracy import (KMEANS_SEED, PALETTE_SIZE, fit_rgb_palette,
                                                          palette_accuracy, photo_pixels)
from colorize_hub.image_decoding import image_files

MODELS = ("colorizer-unet24-cifar-horse", "colorizer-unet24")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="../shared/data/train/cifar10-horse", help="photos the palette is fitted to")
    parser.add_argument("--test", default="../shared/data/eval/cifar10-horse-test", help="photos that are scored")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--colours", type=int, default=PALETTE_SIZE)
    parser.add_argument("--seed", type=int, default=KMEANS_SEED)
    parser.add_argument("--max-images", type=int, default=None, help="score only the first N test photos")
    args = parser.parse_args()

    started = time.perf_counter()
    pixels = photo_pixels(args.train)
    centres = fit_rgb_palette(pixels, args.colours, args.seed)
    fitted = time.perf_counter()

    names = ["gray", *args.models]
    matched = dict.fromkeys(names, 0.0)
    total = 0
    files = image_files(args.test)[: args.max_images]
    for path in files:
        truth_image = load_protocol_image(path, "native")
        truth = to_tensor(truth_image)
        outputs = [gray_image(truth_image),
                   *(colorize(truth_image, model=model, precision=MEASURED_PRECISION) for model in args.models)]
        pixel_count = truth.shape[-2] * truth.shape[-1]
        for name, output in zip(names, outputs):
            matched[name] += palette_accuracy(to_tensor(output), truth, centres) * pixel_count
        total += pixel_count
    finished = time.perf_counter()

    print(f"Palette: {args.colours} k-means RGB centres (seed {args.seed}) of {pixels.shape[0]:,} pixels from "
          f"`{args.train}` ({fitted - started:.0f} s). Scored: {len(files)} photos of `{args.test}`, native size "
          f"({finished - fitted:.0f} s, {torch.get_num_threads()} thread(s)).\n")
    print("| model | per-pixel accuracy (RGB k-means palette) |")
    print("|---|---|")
    for name in names:
        print(f"| {name} | {100 * matched[name] / total:.1f}% |")


if __name__ == "__main__":
    main()
