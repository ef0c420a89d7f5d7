"""Evaluation protocols: how a ground-truth photo is sized before it is colorized and compared, and the gray
baseline (the photo's own L with no colour) every colorizer must beat.

Protocols: `short-side-256` (resize so the shorter side is 256), `ct2-256` (centre crop to a square, resize to
256x256: the protocol of the published ImageNet tables), `native` (as stored).
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..color import lab_to_rgb, rgb_to_lab

PROTOCOLS = ("short-side-256", "ct2-256", "native")
# measurements run the models in fp32: bf16 (colorize()'s "auto" on AMX CPUs) would make them depend on the CPU
MEASURED_PRECISION = "fp32"


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
    return torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def gray_image(image: Image.Image) -> Image.Image:
    """The gray baseline: the photo's own L with ab = 0."""
    lab = rgb_to_lab(to_tensor(image))
    lab[:, 1:] = 0
    return Image.fromarray((lab_to_rgb(lab)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
