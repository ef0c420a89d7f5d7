"""Regenerate the demo's example photos from images that scikit-image ships (no network needed).

The demo is for black-and-white photos, so colour photos are made gray here; each is stored at most
512 px on its longer side so the folder stays small (well under 1 MB). Run: `python examples/make_examples.py`.
"""

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

HERE = Path(__file__).resolve().parent
MAX_SIDE = 512

# file name -> loader returning a uint8 array (gray or RGB)
SOURCES = {
    "astronaut.jpg": data.astronaut,
    "coffee.jpg": data.coffee,
    "camera.jpg": data.camera,
    "chelsea.jpg": data.chelsea,
    "moon.jpg": data.moon,
}


def to_small_gray(pixels: np.ndarray) -> Image.Image:
    """Gray (Pillow's luma) and at most MAX_SIDE px on the longer side, keeping the aspect ratio."""
    image = Image.fromarray(pixels).convert("L")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def main() -> None:
    for name, load in SOURCES.items():
        to_small_gray(load()).save(HERE / name, quality=90, optimize=True)


if __name__ == "__main__":
    main()
