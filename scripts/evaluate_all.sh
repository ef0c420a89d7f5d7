#!/usr/bin/env bash
# The evaluation behind README "Results": every shipped checkpoint on the eval sets of ../shared/data.
#   bash scripts/evaluate_all.sh [DATA_DIR] [OUT_DIR]
set -euo pipefail
data="${1:-../shared/data/eval}"
out="${2:-results}"
general="colorizer-baseline colorizer-unet24 colorizer-cunet colorizer-gan colorizer-fusion"
colorize-hub evaluate --models $general --data "$data/kodak24" --out "$out/kodak24"
colorize-hub evaluate --models $general --data "$data/bsds500-test" --out "$out/bsds500-test"
colorize-hub evaluate --models $general --data "$data/imagenet-dev" --protocol ct2-256 --out "$out/imagenet-dev"
colorize-hub evaluate --models colorizer-cunet-faces colorizer-cunet --data "$data/faces-dev" --protocol native --out "$out/faces-dev"
colorize-hub evaluate --models colorizer-unet24-cifar-horse colorizer-unet24 --data "$data/cifar10-horse-test" --protocol native \
  --max-images 500 --out "$out/cifar10-horse-test"
