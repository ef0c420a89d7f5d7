"""Which render size is most accurate at the checkpoint's colourfulness? A dev-set measurement.

A model sees the photo's L resized to a square of its render size, so the render size sets how large things look
to it; a model trained on 128-pixel crops may read a 256-pixel photo best at another size. Colour and PSNR move
together (more colour costs PSNR), so each size is scored by its PSNR interpolated at the colourfulness of the
checkpoint as shipped (its own render size and chroma_gain), over a sweep of gains, in fp32:

    python scripts/render_size_study.py colorizer-encoder-unet --data ../shared/data/eval/imagenet-dev \\
        --render-sizes 160 192 224 256
    python scripts/render_size_study.py colorizer-encoder-unet --data ~/colorize-data/miniplaces/val \\
        --protocol native --max-images 1000 --render-sizes 160 192 224 256
"""

import argparse

from colorize_hub import load_colorizer
from colorize_hub.evaluation.calibration import gain_table, psnr_at_colourfulness

GAINS = tuple(round(0.7 + 0.05 * i, 2) for i in range(17))  # 0.7 ... 1.5, on the checkpoint's own chroma_gain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="bundled checkpoint name or folder")
    parser.add_argument("--data", required=True, help="a dev folder of ground-truth colour photos")
    parser.add_argument("--protocol", default="short-side-256")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--render-sizes", type=int, nargs="+", default=[160, 192, 224, 256])
    parser.add_argument("--gains", type=float, nargs="+", default=GAINS, help="gains to sweep at each size")
    args = parser.parse_args()
    model, processor = load_colorizer(args.checkpoint)
    temperature = getattr(model.config, "annealed_temperature", None)
    shipped, gray, truth = gain_table(args.checkpoint, args.data, args.protocol, (1.0,), args.max_images, (temperature,))
    shipped_psnr, shipped_cf = next(iter(shipped.values()))
    print(f"{args.data} ({args.protocol}, {args.max_images or 'all'} photos): gray {gray:.3f} dB, truth CF {truth:.1f}; "
          f"as shipped (render {processor.render_size}, gain {processor.chroma_gain}): {shipped_psnr:.3f} dB at CF "
          f"{shipped_cf:.2f}")
    for size in args.render_sizes:
        table, _, _ = gain_table(args.checkpoint, args.data, args.protocol, tuple(args.gains), args.max_images,
                                 (temperature,), render_size=size)
        at = psnr_at_colourfulness(table, temperature, shipped_cf)
        verdict = "outside the gains searched: widen --gains" if at is None else f"{at:.3f} dB ({at - shipped_psnr:+.3f})"
        print(f"  render {size}: at CF {shipped_cf:.2f} {verdict}")


if __name__ == "__main__":
    main()
