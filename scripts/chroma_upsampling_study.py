"""Does edge-aware upsampling of the predicted chroma help? A dev-set measurement.

The merge upsamples the model's ab (render size) to the photo's size bilinearly. This compares that with a
guided filter (He et al., 2013) in its fast form: the local linear model ab ≈ a·L + b is fitted on the render
grid, with the photo's L downsampled to that grid as the guide, and a and b are upsampled and applied to the
full-resolution L, so colour edges follow the photo's edges instead of the render grid's. Each variant is
scored as `colorize-hub evaluate` scores (PSNR and colourfulness of the merged RGB against the photo).

    python scripts/chroma_upsampling_study.py --model colorizer-encoder-unet \
        --data ../shared/data/eval/imagenet-dev --protocol ct2-256 --render-sizes 128 256
"""

import argparse
import statistics

import torch
import torch.nn.functional as F

from colorize_hub import load_colorizer
from colorize_hub.color import L_MAX
from colorize_hub.evaluation.metrics import colourfulness, psnr
from colorize_hub.evaluation.protocol import load_protocol_image, to_tensor
from colorize_hub.image_decoding import image_files
from colorize_hub.pipeline import predict_ab


def box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, windows cut at the border (B, C, h, w) -> same."""
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def guided_upsample(ab: torch.Tensor, lightness: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """(1, 2, h, w) ab on the render grid + (1, 1, H, W) L in [0, 1] -> (1, 2, H, W) ab that follows L's edges."""
    guide = F.interpolate(lightness, size=ab.shape[-2:], mode="area")  # (1, 1, h, w)
    mean_guide, mean_ab = box(guide, radius), box(ab, radius)
    variance = box(guide * guide, radius) - mean_guide**2
    slope = (box(guide * ab, radius) - mean_guide * mean_ab) / (variance + eps)  # (1, 2, h, w)
    offset = mean_ab - slope * mean_guide
    size = lightness.shape[-2:]
    slope, offset = (F.interpolate(box(x, radius), size=size, mode="bilinear", align_corners=False)
                     for x in (slope, offset))
    return slope * lightness + offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--protocol", default="ct2-256")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--render-sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--radii", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--eps", type=float, nargs="+", default=[1e-3, 1e-2])
    args = parser.parse_args()

    model, proc = load_colorizer(args.model)
    files = image_files(args.data)[: args.max_images]
    variants = [("bilinear", None, None)] + [(f"guided r{r} eps{e:g}", r, e) for r in args.radii for e in args.eps]
    for render_size in args.render_sizes:
        scores = {name: ([], []) for name, _, _ in variants}
        for path in files:
            photo = load_protocol_image(path, args.protocol)
            truth = to_tensor(photo)
            inputs = proc.preprocess(photo, render_size=render_size)
            with torch.inference_mode():
                ab = predict_ab(model, inputs["pixel_values"])  # (1, 2, s, s)
            lightness = torch.as_tensor(inputs["original_lightness"][0])[None].float()  # (1, 1, H, W), L 0-100
            light01 = lightness / L_MAX
            for name, radius, eps in variants:
                refined = ab if radius is None else guided_upsample(ab, light01, radius, eps)
                output = to_tensor(proc.post_process_colorization(refined, [lightness[0]])[0])
                scores[name][0].append(psnr(output, truth).item())
                scores[name][1].append(colourfulness(output).item())
        print(f"\n{args.model} on {args.data} ({args.protocol}, {len(files)} photos), render size {render_size}")
        print("| upsampling | PSNR | CF |\n|---|---|---|")
        for name, (psnrs, cfs) in scores.items():
            print(f"| {name} | {statistics.mean(psnrs):.3f} | {statistics.mean(cfs):.2f} |")


if __name__ == "__main__":
    main()
