"""The picture a user judges first: real black-and-white photos, one row each, colorized by every model.

    python scripts/bw_grid.py --data ../shared/data/bw --out results/bw --models colorizer-fusion colorizer-gan

Writes grid.jpg (first column the input, then one column per model, each at its checkpoint's own render size
and calibrated chroma) and photos.txt (the photos, in row order). Photos are shrunk to 1024 px on their longer
side before colorizing, as a user's upload of a large scan would be shown.
"""

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

import colorize_hub

# Twelve photos of ../shared/data/bw that cover what a colorizer must get right: skin, sky, grass, stone, cloth,
# streets, interiors; portraits and crowds; sharp studio prints and soft, faded ones.
PHOTOS = (
    "ddcolor_Audrey Hepburn.jpg", "1908FamilyPhoto.jpg", "Chief.jpg", "TimesSquare1955.jpg",
    "ddcolor_Detroit circa 1915.jpg", "CorkKids1910.jpg", "sioux.jpg", "1890sTouristsEgypt.png",
    "1900sDaytonaBeach.png", "AnselAdamsAdobe.jpg", "dustbowl_people.jpg", "marilyn_woods.jpg",
)
CELL = 256  # side of one grid cell, px
LABEL_HEIGHT = 22


def grid(rows: list[list[Image.Image]], labels: list[str]) -> Image.Image:
    """rows of images -> one white sheet, every image fitted into a CELL x CELL square under its column's label."""
    sheet = Image.new("RGB", (CELL * len(labels), LABEL_HEIGHT + CELL * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, label in enumerate(labels):
        draw.text((column * CELL + 6, 4), label, fill="black")
    for row, images in enumerate(rows):
        for column, image in enumerate(images):
            thumbnail = image.copy()
            thumbnail.thumbnail((CELL - 4, CELL - 4))
            sheet.paste(thumbnail, (column * CELL + 2, LABEL_HEIGHT + row * CELL + 2))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/bw", help="folder of black-and-white photos")
    parser.add_argument("--out", default="results/bw")
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint names or folders")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in PHOTOS:
        with Image.open(Path(args.data) / name) as opened:
            photo = opened.convert("RGB")
        photo.thumbnail((1024, 1024))
        rows.append([photo] + [colorize_hub.colorize(photo, model=model) for model in args.models])
    grid(rows, ["input"] + [Path(model).name for model in args.models]).save(out / "grid.jpg", quality=85)
    (out / "photos.txt").write_text("\n".join(PHOTOS) + "\n")
    print(f"wrote {out / 'grid.jpg'}: {len(PHOTOS)} photos x {len(args.models)} models")


if __name__ == "__main__":
    main()
