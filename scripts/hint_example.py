"""A picture of what colour hints do: a black-and-white photo, its automatic colorization, and the same model
following a few colour points (drawn as dots), side by side.

    python scripts/hint_example.py --image "../shared/data/bw/1908FamilyPhoto.jpg" \
        --hints 201,252,#b03030 431,273,#3050a0 505,235,#406030 229,185,#d8a888 --out results/hints/example.jpg
"""

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from colorize_hub import colorize

PANEL = 512  # px, longer side of each panel
LABEL_HEIGHT = 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", required=True)
    parser.add_argument("--hints", nargs="+", required=True, metavar="X,Y,#RRGGBB", help="points in photo pixels")
    parser.add_argument("--model", default="colorizer-encoder-unet-hints")
    parser.add_argument("--out", type=Path, default=Path("results/hints/example.jpg"))
    args = parser.parse_args()
    hints = [(float(x), float(y), colour) for x, y, colour in (hint.split(",") for hint in args.hints)]
    with Image.open(args.image) as opened:
        photo = ImageOps.exif_transpose(opened).convert("RGB")
    panels = [("black and white", photo), ("automatic", colorize(photo, model=args.model)),
              (f"with {len(hints)} colour points", colorize(photo, model=args.model, hints=hints))]
    scale = PANEL / max(photo.size)
    size = (round(photo.width * scale), round(photo.height * scale))
    sheet = Image.new("RGB", (size[0] * 3, size[1] + LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    for column, (label, image) in enumerate(panels):
        sheet.paste(image.resize(size, Image.LANCZOS), (column * size[0], LABEL_HEIGHT))
        draw.text((column * size[0] + 6, 5), label, fill="black")
    for x, y, colour in hints:  # the points, on the hinted panel
        cx, cy, r = 2 * size[0] + x * scale, LABEL_HEIGHT + y * scale, 6
        draw.ellipse((cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2), fill="white")
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline="black")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
