"""`colorize-hub evaluate`: quality of colorizers against ground-truth colour photos.

Each photo's own L goes through exactly the inference path of `colorize()`; the output is compared with the
photo in RGB. A "gray" row (ab = 0) is the baseline every model must beat.

Protocols: `short-side-256` (resize so the shorter side is 256), `ct2-256` (centre crop to a square, resize to
256x256: the protocol of the published ImageNet tables), `native` (as stored).
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

from .color import lab_to_rgb, rgb_to_lab
from .metrics import colourfulness, psnr
from .palette import image_files
from .pipeline import colorize

logger = logging.getLogger(__name__)
PROTOCOLS = ("short-side-256", "ct2-256", "native")
GRAY = "gray"


def load_protocol_image(path: Path, protocol: str) -> Image.Image:
    with Image.open(path) as image:
        image = image.convert("RGB")
    if protocol == "short-side-256":
        scale = 256 / min(image.size)
        return image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    if protocol == "ct2-256":
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side)).resize((256, 256), Image.BICUBIC)
    if protocol == "native":
        return image
    raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL RGB -> (1, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]


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


def summarize(rows: list[dict[str, float]]) -> dict[str, float]:
    means = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
    means["delta_colourfulness"] = abs(means["colourfulness"] - means["colourfulness_truth"])
    return means


def evaluate(models: list[str], data: str | Path, protocol: str = "short-side-256", render_size: int = 256,
             max_images: int | None = None) -> dict[str, dict[str, float]]:
    """{row name: mean metrics}, with the gray baseline first. Models are names, folders or Hub ids."""
    files = image_files(data)[:max_images]
    per_model: dict[str, list] = {GRAY: []} | {str(m): [] for m in models}
    for path in tqdm(files, desc=f"evaluate {Path(data).name}", unit="image"):
        truth_image = load_protocol_image(path, protocol)
        truth = to_tensor(truth_image)
        per_model[GRAY].append(image_metrics(to_tensor(colorize_gray(truth_image)), truth))
        for model in models:
            output = colorize(truth_image, model=model, render_size=render_size)
            per_model[str(model)].append(image_metrics(to_tensor(output), truth))
    return {name: {**summarize(rows), "images": len(rows)} for name, rows in per_model.items()}


def colorize_gray(image: Image.Image) -> Image.Image:
    """The gray baseline: the photo's own L with ab = 0."""
    lab = rgb_to_lab(to_tensor(image))
    lab[:, 1:] = 0
    return Image.fromarray((lab_to_rgb(lab)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def markdown_table(results: dict[str, dict[str, float]]) -> str:
    gray_psnr = results[GRAY]["psnr"]
    lines = ["| model | PSNR | PSNR − gray | SSIM | ΔE2000 | CF | ΔCF |", "|---|---|---|---|---|---|---|"]
    for name, m in results.items():
        lines.append(
            f"| {Path(name).name} | {m['psnr']:.2f} | {m['psnr'] - gray_psnr:+.2f} | {m['ssim']:.4f} | "
            f"{m['delta_e']:.2f} | {m['colourfulness']:.1f} | {m['delta_colourfulness']:.1f} |"
        )
    truth_cf = next(iter(results.values()))["colourfulness_truth"]
    return "\n".join(lines) + f"\n\nGround-truth CF {truth_cf:.1f}; {results[GRAY]['images']} images.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="colorize-hub evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  colorize-hub evaluate --models colorizer-unet24 colorizer-fusion "
               "--data ../shared/data/eval/kodak24 --out results/kodak24",
    )
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint names, folders or Hub ids")
    parser.add_argument("--data", required=True, help="folder of ground-truth colour photos")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="short-side-256")
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--out", required=True, help="folder for metrics.json and metrics.md")
    args = parser.parse_args(argv)
    results = evaluate(args.models, args.data, args.protocol, args.render_size, args.max_images)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"data": str(args.data), "protocol": args.protocol, "render_size": args.render_size}
    (out / "metrics.json").write_text(json.dumps({**meta, "results": results}, indent=2))
    table = markdown_table(results)
    (out / "metrics.md").write_text(f"Data: `{args.data}`, protocol `{args.protocol}`\n\n{table}")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
