"""Is there a better chroma curve than the linear gain? A dev-set measurement at equal colourfulness.

A regression colorizer predicts muted chroma and its checkpoint's `chroma_gain` scales it up uniformly. Four
alternatives are compared here with that gain, each swept over a range of strengths so that all five trace a
PSNR-colourfulness frontier, and compared at the colourfulness of the linear gain's own setting:

- a lightness taper: the gain falls linearly from its full value at L = `l0` to `t1` times it at L = 100, so
  bright, nearly white regions (hazy skies, snow, lit walls) get less added chroma than the rest;
- a soft curve, c -> c_max * tanh(g * c / c_max): muted chroma is lifted more than confident colours;
- a per-photo cap: the linear gain, then the whole photo scaled down where its mean chroma exceeds the cap;
- an expanding curve, c -> g * c * (c / c_ref)^p: the opposite of the soft curve, faint (uncertain) chroma is
  lifted less than confident colours.

The model runs once per photo; every curve is applied to the same predicted ab and merged as `colorize()`
merges it.

    python scripts/chroma_curve_study.py --model colorizer-encoder-unet \
        --data ../shared/data/eval/imagenet-dev --protocol short-side-256
"""

import argparse

import numpy as np
import torch

from colorize_hub import load_colorizer
from colorize_hub.evaluation.metrics import colourfulness, psnr
from colorize_hub.evaluation.protocol import gray_image, load_protocol_image, to_tensor
from colorize_hub.image_decoding import image_files
from colorize_hub.pipeline import predict_ab

STRENGTHS = (0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.5)


def linear(ab: torch.Tensor, lightness: torch.Tensor, gain: float) -> torch.Tensor:
    return ab * gain


def lightness_taper(l0: float, t1: float):
    def curve(ab: torch.Tensor, lightness: torch.Tensor, gain: float) -> torch.Tensor:
        """lightness: normalised L of the render, in [-1, 1] (L 0-100)."""
        light = (lightness + 1) * 50
        fraction = ((light - l0) / (100 - l0)).clamp(0, 1)  # 0 up to l0, 1 at L = 100
        return ab * gain * (1 - (1 - t1) * fraction)
    return curve


def soft(c_max: float):
    def curve(ab: torch.Tensor, lightness: torch.Tensor, gain: float) -> torch.Tensor:
        chroma = ab.norm(dim=1, keepdim=True).clamp_min(1e-6)  # normalised chroma, 1 = AB_SCALE
        return ab / chroma * c_max * torch.tanh(gain * chroma / c_max)
    return curve


def image_cap(cap: float):
    def curve(ab: torch.Tensor, lightness: torch.Tensor, gain: float) -> torch.Tensor:
        """The linear gain, then the whole image scaled down where its mean chroma exceeds `cap` (normalised)."""
        scaled = ab * gain
        mean_chroma = scaled.norm(dim=1).mean().clamp_min(1e-6)
        return scaled * (cap / mean_chroma).clamp(max=1.0)
    return curve


def expand(c_ref: float, power: float):
    def curve(ab: torch.Tensor, lightness: torch.Tensor, gain: float) -> torch.Tensor:
        chroma = ab.norm(dim=1, keepdim=True)  # normalised chroma, 1 = AB_SCALE
        return ab * gain * (chroma / c_ref) ** power
    return curve


CURVES = {
    "linear": linear,
    "taper L0=50 t1=0.3": lightness_taper(50, 0.3),
    "taper L0=65 t1=0.3": lightness_taper(65, 0.3),
    "taper L0=80 t1=0.5": lightness_taper(80, 0.5),
    "soft c_max=0.45": soft(0.45),
    "soft c_max=0.6": soft(0.6),
    "cap 0.2": image_cap(0.2),
    "cap 0.25": image_cap(0.25),
    "cap 0.3": image_cap(0.3),
    "expand c_ref=0.1 p=0.25": expand(0.1, 0.25),
    "expand c_ref=0.1 p=0.5": expand(0.1, 0.5),
}


@torch.inference_mode()
def frontier(model, processor, photos: list, protocol: str) -> tuple[dict, float]:
    """{curve name: [(strength, mean PSNR, mean CF)]} and the gray image's mean PSNR."""
    scores = {(name, s): [] for name in CURVES for s in STRENGTHS}
    gray = []
    for path in photos:
        image = load_protocol_image(path, protocol)
        truth = to_tensor(image)
        gray.append(psnr(to_tensor(gray_image(image)), truth).item())
        inputs = processor(image)
        ab = predict_ab(model, inputs["pixel_values"])
        for (name, strength), values in scores.items():
            curved = CURVES[name](ab, inputs["pixel_values"], strength)
            output = to_tensor(processor.post_process_colorization(curved, inputs["original_lightness"])[0])
            values.append((psnr(output, truth).item(), colourfulness(output).item()))
    table = {name: [(s, *np.mean(scores[(name, s)], axis=0)) for s in STRENGTHS] for name in CURVES}
    return table, float(np.mean(gray))


def at_colourfulness(rows: list, target: float) -> float:
    """PSNR where the curve's colourfulness reaches `target` (linear between the strengths measured)."""
    _, psnrs, cfs = zip(*rows)
    return float(np.interp(target, cfs, psnrs)) if min(cfs) <= target <= max(cfs) else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="colorizer-encoder-unet")
    parser.add_argument("--data", required=True)
    parser.add_argument("--protocol", default="short-side-256")
    parser.add_argument("--max-images", type=int, default=None)
    args = parser.parse_args()
    model, processor = load_colorizer(args.model)
    shipped_gain = processor.chroma_gain
    processor.chroma_gain = 1.0  # the curves apply the gain themselves
    table, gray = frontier(model, processor, image_files(args.data)[: args.max_images], args.protocol)
    target = float(np.interp(shipped_gain, [s for s, _, _ in table["linear"]], [c for _, _, c in table["linear"]]))
    print(f"{args.data} ({args.protocol}): gray {gray:.2f} dB; PSNR - gray at the shipped gain's CF {target:.1f}")
    for name, rows in table.items():
        sweep = "  ".join(f"{s:g}: {p - gray:+.2f}/{c:.1f}" for s, p, c in rows)
        print(f"  {name:20s} {at_colourfulness(rows, target) - gray:+.2f} dB   (strength: PSNR-gray/CF  {sweep})")


if __name__ == "__main__":
    main()
