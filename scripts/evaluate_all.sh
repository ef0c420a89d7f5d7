#!/usr/bin/env bash
# The evaluation behind docs/evaluation.md "Results": every shipped checkpoint on the eval sets of ../shared/data,
# the dev sets (imagenet-dev, MiniPlaces val), Tiny ImageNet val for top-1, and the grid of black-and-white photos.
#   bash scripts/evaluate_all.sh [DATA_DIR] [OUT_DIR] [LARGE_DATA_DIR]
# LARGE_DATA_DIR holds the extracted MiniPlaces and Tiny ImageNet (../shared/data/extra/README.md); without it
# (default ~/colorize-data, skipped when absent) only the sets of DATA_DIR are evaluated. After one checkpoint
# changes, any of these commands with `--models THAT_ONE --update` refreshes its rows alone (docs/evaluation.md).
set -euo pipefail
data="${1:-../shared/data/eval}"
out="${2:-results}"
large="${3:-$HOME/colorize-data}"
general="colorizer-baseline colorizer-unet24 colorizer-cunet colorizer-gan colorizer-fusion colorizer-encoder-unet"
colorize-hub evaluate --models $general --data "$data/kodak24" --out "$out/kodak24"
colorize-hub evaluate --models $general --data "$data/bsds500-test" --out "$out/bsds500-test"
colorize-hub evaluate --models $general --data "$data/imagenet-dev" --protocol ct2-256 --out "$out/imagenet-dev"
colorize-hub evaluate --models colorizer-cunet-faces colorizer-cunet --data "$data/faces-dev" --protocol native --out "$out/faces-dev"
colorize-hub evaluate --models colorizer-unet24-cifar-horse colorizer-unet24 --data "$data/cifar10-horse-test" --protocol native \
  --max-images 500 --out "$out/cifar10-horse-test"
if [ -d "$large/miniplaces/val" ]; then
  colorize-hub evaluate --models $general --data "$large/miniplaces/val" --protocol native --max-images 2000 \
    --out "$out/miniplaces-val"
  # classifier top-1 on Tiny ImageNet val (64x64): every general model on the first 1,000 photos (about 50 minutes
  # on one thread of a 2-core AVX2 CPU, the seed-shaped models' 256-pixel forward most of it), the default on all
  # 9,754 labelled ones (about 40 minutes there)
  colorize-hub evaluate --models $general --data "$large/tinyimagenet/val" --protocol native --grid-images 0 \
    --max-images 1000 --out "$out/tinyimagenet-val-1000"
  colorize-hub evaluate --models colorizer-encoder-unet --data "$large/tinyimagenet/val" \
    --protocol native --grid-images 0 --out "$out/tinyimagenet-val"
fi
python scripts/bw_grid.py --data "$data/../bw" --out "$out/bw" --models $general
# colour hints: PSNR against the number of true-colour hints (0 to 50), beside the hint-free twin
python scripts/hint_sweep.py --model colorizer-encoder-unet-hints --twin colorizer-encoder-unet \
  --data "$data/kodak24" "$data/bsds500-test" --out "$out/hints"
