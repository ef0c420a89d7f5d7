"""Image files and pixel decoding: which files are images, and, for the image processor, PIL images of every
mode and arrays of the accepted dtypes, read without losing bit depth (16-bit, float) and with alpha kept apart."""

from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ColorizationError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
CHUNK_PIXELS = 1 << 18  # NaN checks work on ~0.25-megapixel row slices (bounded memory)


def image_files(folder: str | Path) -> list[Path]:
    """Every image file under `folder` (recursively), sorted; a ColorizationError when there is none."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ColorizationError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) found under {folder}.")
    return files


def all_finite(array: np.ndarray) -> bool:
    """np.isfinite(array).all() without a full-size boolean copy."""
    rows = max(1, CHUNK_PIXELS // max(1, array[0].size))
    return all(np.isfinite(array[r : r + rows]).all() for r in range(0, array.shape[0], rows))


INT_SCALES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(np.bool_): 1.0}


def alpha_to_uint8(alpha: np.ndarray) -> np.ndarray:
    """Alpha of any accepted dtype -> contiguous uint8 (H, W); floats are clipped to [0, 1]."""
    if alpha.dtype == np.uint8:
        return np.ascontiguousarray(alpha)
    unit = np.clip(alpha.astype(np.float32) / INT_SCALES.get(alpha.dtype, 1.0), 0.0, 1.0)
    return (unit * 255.0).round().astype(np.uint8)


def pil_pixels(img: Image.Image, source: str) -> tuple[np.ndarray, float, np.ndarray | None, bool]:
    """Decode a PIL image into (pixels, scale, alpha, is_lightness) without losing bit depth.

    Rules for wide modes (the data gives no declared range, so the values decide):
    ``I;16*``: / 65535. ``I`` (32-bit int): 8-bit if max <= 255, else / 65535, clipped.
    ``F``: as is if max <= 1, elif max <= 255 / 255, else / 65535; then clipped to [0, 1]; NaN/inf refused.
    Gray modes keep one channel (gray g gives the L of RGB (g, g, g)); "LAB" uses its L directly.
    """
    mode = img.mode
    if mode in ("La", "PA", "RGBa") or (mode == "P" and img.has_transparency_data):
        img = img.convert("LA" if mode == "La" else "RGBA")
    elif mode not in ("1", "L", "LA", "RGB", "RGBA", "LAB", "F") and not mode.startswith("I"):
        img = img.convert("RGB")  # P, RGBX, CMYK, YCbCr, HSV and any other colour mode
    mode, arr = img.mode, np.asarray(img)  # "1" -> bool, 8-bit -> uint8, I;16* -> (u)int16, I -> int32, F -> float32
    if mode in ("LA", "RGBA"):
        return arr[..., :-1], 255.0, arr[..., -1].copy(), False
    if mode == "LAB":  # only its L matters (stored as 0..255 for 0..100)
        return arr[..., 0], 255.0, None, True
    if mode in ("1", "L", "RGB") or mode.startswith("I;16"):
        return arr, {"1": 1.0, "L": 255.0, "RGB": 255.0}.get(mode, 65535.0), None, False
    if mode == "F" and not all_finite(arr):
        raise ColorizationError(f"{source} ('F' mode) contains NaN or infinity; fix or re-export it.")
    top = float(arr.max())
    if mode == "F" and top <= 1.0:
        return arr, 1.0, None, False
    return arr, (255.0 if top <= 255 else 65535.0), None, False
