"""`colorize-hub evaluate`: quality of colorizers against ground-truth colour photos.

Each photo's own L goes through exactly the inference path of `colorize()`; the output is compared with the
photo in RGB. A "gray" row (ab = 0) is the baseline every model must beat. Besides the means, `per_image.csv`
has every photo's metrics, and metrics.md names the photos where each model falls furthest below gray.

Protocols: `short-side-256` (resize so the shorter side is 256), `ct2-256` (centre crop to a square, resize to
256x256: the protocol of the published ImageNet tables), `native` (as stored).

Precision: fp32 by default, so a table reads the same on every CPU; `--precision auto` runs the models as
`colorize()` does by default (bf16 where the CPU runs it natively: faster, and a few hundredths of a dB apart).
"""

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.color import deltaE_ciede2000
from torchmetrics.functional.image import structural_similarity_index_measure
from tqdm.auto import tqdm

from . import semantic
from ..color import rgb_to_lab
from .report import (bar_chart, comparison_grid, display_name, markdown_table, worst_photos,
                                write_per_image_csv)
from .earlier_results import load_earlier, merge, shown_path
from .metrics import colourfulness, psnr
from .protocol import MEASURED_PRECISION, PROTOCOLS, gray_image, load_protocol_image, to_tensor
from ..image_decoding import image_files
from .perceptual import PerceptualMetrics
from ..pipeline import PRECISIONS, colorize

logger = logging.getLogger(__name__)
GRAY = "gray"
WORST_PHOTOS = 4  # per model, in metrics.md


def image_metrics(output: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """PSNR, SSIM, mean CIEDE2000 and colourfulness of one (1, 3, H, W) output against its truth."""
    lab_out, lab_truth = (rgb_to_lab(x)[0].permute(1, 2, 0).numpy() for x in (output, truth))
    return {
        "psnr": psnr(output, truth).item(),
        "ssim": structural_similarity_index_measure(output, truth, data_range=1.0).item(),
        "delta_e": float(np.mean(deltaE_ciede2000(lab_truth, lab_out))),
        "colourfulness": colourfulness(output).item(),
        "colourfulness_truth": colourfulness(truth).item(),
    }


def summarize(rows: list[dict]) -> dict[str, float]:
    keys = [k for k in rows[0] if rows[0][k] is not None]
    means = {key: float(np.mean([row[key] for row in rows])) for key in keys}
    means["delta_colourfulness"] = abs(means["colourfulness"] - means["colourfulness_truth"])
    return means


def evaluate(models: list[str], data: str | Path, protocol: str = "short-side-256", render_size: int | None = None,
             max_images: int | None = None, grid_images: int = 0, perceptual: PerceptualMetrics | None = None,
             per_image: list | None = None, precision: str = MEASURED_PRECISION):
    """Returns ({row name: mean metrics}, grid rows). The gray row comes first; top-1 where names carry wnids.

    `per_image`, when given a list, receives one row per photo and model: {"image", "model", the metrics,
    "psnr_minus_gray"}, so the photos behind a mean can be found. `precision` is that of `colorize()`.
    """
    files = image_files(data)[:max_images]
    names = [GRAY, *map(str, models)]
    per_model: dict[str, list] = {name: [] for name in names}
    labels = [semantic.imagenet_label(path) for path in files]
    scored = all(label is not None for label in labels)
    grid = []
    for path, label in tqdm(list(zip(files, labels)), desc=f"evaluate {Path(data).name}", unit="image"):
        truth_image = load_protocol_image(path, protocol)
        truth = to_tensor(truth_image)
        outputs = [gray_image(truth_image)]
        outputs += [colorize(truth_image, model=model, render_size=render_size, precision=precision)
                    for model in models]
        truth_top1 = semantic.top1(truth) == label if scored else None
        for name, output_image in zip(names, outputs):
            output = to_tensor(output_image)
            row = image_metrics(output, truth)
            if scored:
                row.update(top1=float(semantic.top1(output) == label), top1_truth=float(truth_top1))
            if perceptual is not None:
                row["lpips"] = perceptual.lpips_of(output, truth)
                perceptual.add_to_fid(name, output, truth)
            per_model[name].append(row)
            if per_image is not None:
                gray_psnr = per_model[GRAY][-1]["psnr"]
                per_image.append({"image": path.name, "model": name, **row, "psnr_minus_gray": row["psnr"] - gray_psnr})
        if len(grid) < grid_images:
            grid.append([*outputs, truth_image])
    results = {name: {**summarize(rows), "images": len(rows)} for name, rows in per_model.items()}
    if perceptual is not None:
        for name in names:
            results[name]["fid"] = perceptual.fid_of(name)
    return results, grid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="colorize-hub evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example (NAME: see `colorize-hub list`):\n  colorize-hub evaluate --models NAME OTHER_NAME "
               "--data ../shared/data/eval/kodak24 --out results/kodak24",
    )
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint names, folders or Hub ids")
    parser.add_argument("--data", required=True, help="folder of ground-truth colour photos")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="short-side-256")
    parser.add_argument("--render-size", type=int, default=None, help="default: each checkpoint's own")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--grid-images", type=int, default=4, help="images in the comparison grid")
    parser.add_argument("--out", required=True,
                        help="folder for metrics.json, metrics.md, per_image.csv, grid.png, bars.png")
    parser.add_argument("--precision", choices=PRECISIONS, default=MEASURED_PRECISION,
                        help="of the models' forward pass: fp32 (default) reads the same on every CPU; auto/bf16 are "
                             "faster where the CPU runs bf16 natively (AMX)")
    parser.add_argument("--update", action="store_true",
                        help="evaluate only --models and replace their rows in the earlier results in --out (made "
                             "with the same data, protocol, render size, --max-images and precision); the other "
                             "models' rows stay")
    args = parser.parse_args(argv)
    out = Path(args.out)
    earlier = None
    if args.update:
        images = len(image_files(args.data)[:args.max_images])
        earlier = load_earlier(out, args.data, args.protocol, args.render_size, images, args.precision)
    perceptual = PerceptualMetrics()
    per_image: list[dict] = []
    results, grid = evaluate(args.models, args.data, args.protocol, args.render_size, args.max_images,
                             0 if earlier else args.grid_images, perceptual, per_image, args.precision)
    models = args.models
    if earlier:
        results, per_image = merge(*earlier, results, per_image)
        models = [name for name in results if name != GRAY]
        if args.grid_images:  # the grid shows every model: redraw it from its few photos
            grid = evaluate(models, args.data, args.protocol, args.render_size, args.grid_images, args.grid_images,
                            precision=args.precision)[1]
    out.mkdir(parents=True, exist_ok=True)
    not_available = {k: f"n/a: {v}" for k, v in perceptual.reasons.items() if v}
    data_name = shown_path(args.data)
    meta = {"data": data_name, "protocol": args.protocol, "render_size": args.render_size,
            "precision": args.precision, "not_available": not_available}
    (out / "metrics.json").write_text(json.dumps({**meta, "results": results}, indent=2))
    table = markdown_table(results, GRAY)
    notes = "".join(f"- {k.upper()}: {v}\n" for k, v in not_available.items())
    write_per_image_csv(per_image, out / "per_image.csv")
    worst = worst_photos(per_image, WORST_PHOTOS, GRAY)
    heading = f"Data: `{data_name}`, protocol `{args.protocol}`, {args.precision}"
    (out / "metrics.md").write_text(f"{heading}\n\n{table}\n{notes}\n{worst}")
    if grid:
        comparison_grid(grid, ["gray", *map(display_name, models), "ground truth"], out / "grid.png")
    bar_chart(results, out / "bars.png", GRAY)
    print(table + notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
