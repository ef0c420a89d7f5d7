"""Compare a colour-classifying checkpoint's annealed-mean temperatures at equal colour.

A lower temperature gives more colour, and so does a higher gain; comparing temperatures at one gain mixes the
two. This prints, for each temperature, the gain at which the reference set reaches the colourfulness the
checkpoint's shipped setting gives it (or --cf), and every set's PSNR - gray and CF at that gain:

    python scripts/temperature_frontier.py checkpoints/colorizer-fusion \
        --reference ../shared/data/eval/imagenet-dev \
        --data ../shared/data/eval/kodak24 ../shared/data/eval/bsds500-test

Gains are the effective ones (the checkpoint's chroma_gain times the search's factor).
"""

import argparse
from pathlib import Path

from colorize_hub import load_colorizer
from colorize_hub.evaluation.calibration import DEFAULT_TEMPERATURES, equal_colour_settings, gain_table

GAIN_FACTORS = tuple(round(0.6 + 0.05 * i, 2) for i in range(25))  # 0.6 ... 1.8 of the shipped gain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--reference", required=True, help="the set whose colourfulness is held fixed (the dev set)")
    parser.add_argument("--data", nargs="*", default=[], help="more folders of ground-truth colour photos")
    parser.add_argument("--cf", type=float, help="the reference set's colourfulness to compare at; "
                                                  "default: what the shipped setting gives it")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[*DEFAULT_TEMPERATURES, 1.3])
    parser.add_argument("--protocol", default="short-side-256")
    args = parser.parse_args()

    model, processor = load_colorizer(args.checkpoint)
    shipped = model.config.annealed_temperature
    if shipped is None:
        parser.error(f"{args.checkpoint} has no annealed-mean temperature (not a colour classifier)")
    temperatures = sorted({*args.temperatures, shipped})
    tables = {}
    for folder in [args.reference, *args.data]:
        table, gray_psnr, truth_cf = gain_table(args.checkpoint, folder, args.protocol, GAIN_FACTORS,
                                                temperatures=temperatures)
        tables[Path(folder).name] = (table, gray_psnr)
        print(f"{Path(folder).name}: gray PSNR {gray_psnr:.2f}, ground-truth CF {truth_cf:.1f}")
    reference = Path(args.reference).name
    target_cf = args.cf if args.cf is not None else tables[reference][0][(shipped, 1.0)][1]
    names = list(tables)
    print(f"\nAt {reference} CF {target_cf:.1f} (shipped: temperature {shipped}, gain {processor.chroma_gain}):\n")
    print("| temperature | gain | " + " | ".join(f"{name} PSNR − gray / CF" for name in names) + " |")
    print("|---" * (len(names) + 2) + "|")
    for row in equal_colour_settings(tables, reference, target_cf):
        cells = " | ".join("{:+.2f} / {:.1f}".format(*row["scores"][name]) for name in names)
        print(f"| {row['temperature']} | {row['gain'] * processor.chroma_gain:.2f} | {cells} |")


if __name__ == "__main__":
    main()
