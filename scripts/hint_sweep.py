"""PSNR against the number of true-colour hints, as Zhang et al. 2017 plot it (Figure 4), on evaluation sets.

    python scripts/hint_sweep.py --model colorizer-encoder-unet-hints --twin colorizer-encoder-unet \
        --data ../shared/data/eval/kodak24 ../shared/data/eval/bsds500-test --out results/hints

Writes OUT/hint_sweep.json (per set: per hint count the mean PSNR, PSNR minus gray, colourfulness and the median ab
distance between the output at the hinted points and the hints; "twin": the hint-free model) and OUT/hint_sweep.png.
See colorize_hub.evaluation.hint_sweep for how hints are drawn.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from colorize_hub.evaluation.hint_sweep import HINT_COUNTS, hint_sweep  # noqa: E402


def plot(results: dict, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, table in results.items():
        counts = [count for count in table if count != "twin"]
        line = axis.plot([max(int(c), 0.5) for c in counts], [table[c]["psnr"] for c in counts], "o-", label=name)
        if "twin" in table:
            axis.axhline(table["twin"]["psnr"], color=line[0].get_color(), linestyle=":", linewidth=1)
    axis.set_xscale("log")
    axis.set_xticks([0.5, 1, 2, 5, 10, 20, 50], ["0", "1", "2", "5", "10", "20", "50"])
    axis.set_xlabel("true-colour hints per photo")
    axis.set_ylabel("PSNR (dB)")
    axis.set_title("Colour hints: PSNR against the number of hints\n(dotted: the hint-free model)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a checkpoint that takes hints")
    parser.add_argument("--twin", default=None, help="its hint-free twin, measured without hints")
    parser.add_argument("--data", nargs="+", required=True, help="folders of ground-truth colour photos")
    parser.add_argument("--counts", type=int, nargs="+", default=list(HINT_COUNTS))
    parser.add_argument("--protocol", default="short-side-256")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--out", default="results/hints")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for folder in args.data:
        table = hint_sweep(args.model, folder, args.counts, args.protocol, args.max_images, args.twin)
        results[Path(folder).name] = {str(k): v for k, v in table.items()}
        for count, row in table.items():
            print(f"{Path(folder).name:>14} {count!s:>5} hints: PSNR {row['psnr']:.2f} ({row['psnr_minus_gray']:+.2f} vs "
                  f"gray), CF {row['colourfulness']:.1f}, ab error at hints {row['hint_ab_error_median']}")
    (out / "hint_sweep.json").write_text(json.dumps({"model": args.model, "twin": args.twin,
                                                     "protocol": args.protocol, "results": results}, indent=1))
    plot(results, out / "hint_sweep.png")


if __name__ == "__main__":
    main()
