"""Colour flicker of video colorization with and without temporal smoothing, on a clip made here.

The clip: a still photo held for --frames frames with sensor noise and camera shake, a hard cut, then a second
photo held the same way (skimage's astronaut and coffee). Nothing in it moves, so every colour change inside a
scene is flicker. Printed, for smoothing off and on: the flicker of the colour layer (the predicted ab: what
smoothing acts on) and of the output pictures (which also carry the source's grain), in CIE Lab units, and the
scene cuts found (the right answer is one, at the second photo).

    python benchmarks/bench_video_flicker.py [--checkpoint NAME_OR_FOLDER] [--render-size 256] [--frames 12]

Default checkpoint: colorizer-fusion if bundled, else the first bundled one, else a randomly initialised
colorizer-unet24 (say which in reports: random weights flicker differently from trained ones).
"""

import argparse
import time

import numpy as np
import torch
from PIL import Image
from skimage import data

import colorize_hub
from colorize_hub.media.temporal import ChromaSmoother, flicker, static_camera_clip
from colorize_hub.media.video import colorize_frames


def default_model():
    bundled = colorize_hub.bundled_checkpoints()
    if bundled:
        name = "colorizer-fusion" if "colorizer-fusion" in bundled else next(iter(bundled))
        return name, name
    record = colorize_hub.MODEL_REGISTRY["colorizer-unet24"]
    config_class, model_class = record.config_class, record.model_class
    torch.manual_seed(0)
    return model_class(config_class()).eval(), "random colorizer-unet24 (no bundled checkpoint)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="bundled name, folder or Hub id (default: see above)")
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=12, help="frames per scene")
    parser.add_argument("--size", type=int, nargs=2, default=(480, 360), metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--noise", type=float, default=4.0, help="sensor noise, std in 8-bit levels")
    parser.add_argument("--jitter", type=int, default=1, help="camera shake, pixels")
    parser.add_argument("--smoothing", type=float, default=0.7)
    args = parser.parse_args()

    model, label = (args.checkpoint, args.checkpoint) if args.checkpoint else default_model()
    photos = [np.asarray(Image.fromarray(p).resize(tuple(args.size))) for p in (data.astronaut(), data.coffee())]
    frames, starts = static_camera_clip(photos, args.frames, noise=args.noise, jitter=args.jitter)
    print(f"model: {label}; clip: 2 scenes x {args.frames} frames, {args.size[0]}x{args.size[1]}, noise "
          f"{args.noise}, shake {args.jitter} px; render {args.render_size}")
    print("| smoothing | colour-layer flicker (ΔE ab) | output flicker (ΔE ab) | scene cuts | s/frame |")
    print("|---|---|---|---|---|")
    for strength in (0.0, args.smoothing):
        smoother = ChromaSmoother(strength) if strength else None
        start = time.perf_counter()
        images, chroma = zip(*colorize_frames(frames, model, render_size=args.render_size, smoother=smoother,
                                              with_chroma=True))
        seconds = (time.perf_counter() - start) / len(frames)
        cuts = smoother.cuts if smoother else "-"
        print(f"| {strength or 'off'} | {flicker(chroma, starts):.3f} | {flicker(images, starts):.3f} | {cuts} | "
              f"{seconds:.3f} |")


if __name__ == "__main__":
    main()
