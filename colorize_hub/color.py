"""CIE Lab (D65, sRGB) conversions on tensors and the L / ab scale constants.

This module is the ONE place where colour spaces and their scales are defined: the data
pipeline, every model, the image processor and the evaluation all go through it, so a model
trained with one normalisation can never be served with another.

Conversions use kornia (a translation of scikit-image's ``rgb2lab`` / ``lab2rgb``) and always
compute in float32: bf16 / fp16 lose about 0.5 L units near white, which shows as banding, and
float64 would double the memory of full-resolution images for no visible gain. The display path
(Lab -> sRGB that keeps L, 8-bit output) lives in :mod:`colorize_hub.gamut`.
"""

from __future__ import annotations

import functools

import kornia.color
import numpy as np
import torch
from torch import Tensor

from . import cie
from .errors import ColorizationError
from .merge_kernels import fused_lightness_from_rgb8, kernels_available

__all__ = [
    "AB_SCALE",
    "L_MAX",
    "denormalize_ab",
    "denormalize_l",
    "lab_to_rgb",
    "normalize_ab",
    "normalize_l",
    "array_to_lightness",
    "rgb_to_lab",
    "rgb_to_lightness",
    "rgb_to_normalized_lab",
]

L_MAX = 100.0
"""Upper end of CIE L*; L in [0, L_MAX] is mapped linearly to [-1, 1]."""

AB_SCALE = 110.0
"""Divisor that brings a*, b* to about [-1, 1].

Why 110: the sRGB gamut reaches |a|, |b| of roughly 80-110 (pure blue has b = -108, green
a = -86, magenta a = +98); natural photographs almost never leave that box. A larger constant
(128, the 8-bit Lab range) would waste ~15 % of a tanh output range on colours that sRGB cannot
display. Values beyond +/-110 are clamped when predictions are turned back into images.
"""

# Luminance (Y) row of the linear-sRGB -> XYZ (D65) matrix used by kornia.rgb_to_xyz.
# The weights sum to 1.0, so a gray g has Y = linear(g) exactly as the RGB triple (g, g, g).
_Y_WEIGHTS = (0.212671, 0.715160, 0.072169)
_LAB_EPSILON = cie.LAB_EPSILON
_CHUNK_PIXELS = 1 << 18  # array_to_lightness converts ~0.25-megapixel row slices (cache-friendly, bounded memory)


def as_float32(tensor: Tensor, name: str, channels: tuple[int, ...]) -> Tensor:
    """Validate a (..., C, H, W) tensor and return it in float32 (a no-op if it already is)."""
    if not isinstance(tensor, Tensor):
        raise ColorizationError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}; convert it first.")
    if tensor.ndim < 3 or tensor.shape[-3] not in channels:
        raise ColorizationError(
            f"{name} must have shape (..., {'|'.join(map(str, channels))}, H, W), got {tuple(tensor.shape)}; "
            "put the channels before height and width."
        )
    if not tensor.is_floating_point():
        raise ColorizationError(
            f"{name} must be a float tensor, got {tensor.dtype}; for uint8 images divide by 255 first."
        )
    return tensor.float()


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """Convert sRGB in [0, 1] of shape (..., 3, H, W) to CIE Lab (D65), L in [0, 100].

    Returns float32 whatever the input dtype, because Lab values feed losses and metrics.
    """
    rgb = as_float32(rgb, "rgb", (3,))
    return kornia.color.rgb_to_lab(rgb)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """Convert CIE Lab (D65) of shape (..., 3, H, W) to sRGB float32, clipped to [0, 1].

    Out-of-gamut Lab triples (which a model can predict) are clipped per channel rather than
    raising, because the caller always wants a displayable image.
    """
    lab = as_float32(lab, "lab", (3,))
    return kornia.color.lab_to_rgb(lab, clip=True)


def _srgb_to_linear(x: Tensor) -> Tensor:
    """Undo the sRGB transfer curve (same formula and threshold as kornia.rgb_to_linear_rgb)."""
    return torch.where(x > 0.04045, ((x + 0.055).clamp(min=0.0) / 1.055).pow(2.4), x / 12.92)


def rgb_to_lightness(image: Tensor) -> Tensor:
    """Return only CIE L* (..., 1, H, W) float32 from sRGB (..., 3, H, W) or gray (..., 1, H, W).

    Why a separate function: the image processor needs L of photos up to 50 megapixels, and
    computing full Lab there would triple the memory for channels that are thrown away.
    L depends on luminance Y only, so this computes Y with kornia's matrix row and applies the
    same CIE curve; it agrees with ``rgb_to_lab(rgb)[..., :1, :, :]`` to float precision.
    A gray value g gives the same L as the RGB triple (g, g, g).
    """
    image = as_float32(image, "image", (1, 3))
    linear = _srgb_to_linear(image)
    if image.shape[-3] == 3:
        wr, wg, wb = _Y_WEIGHTS
        y = linear[..., 0:1, :, :] * wr + linear[..., 1:2, :, :] * wg + linear[..., 2:3, :, :] * wb
    else:
        y = linear * sum(_Y_WEIGHTS)
    return _luminance_to_lightness(y)


def _luminance_to_lightness(y: Tensor) -> Tensor:
    """CIE L* from luminance Y: cube root above the threshold, linear segment below (as kornia does)."""
    f = torch.where(y > _LAB_EPSILON, y.clamp(min=_LAB_EPSILON).pow(1.0 / 3.0),
                    cie.LINEAR_SLOPE * y + cie.LINEAR_OFFSET)
    return cie.L_SCALE * f - cie.L_OFFSET


def _uint8_tables() -> tuple[np.ndarray, np.ndarray]:
    """For 8-bit input: per-channel luminance contributions (3, 256) of sRGB codes, and L of gray codes (256,)."""
    linear = _srgb_to_linear(torch.arange(256, dtype=torch.float32) / 255.0)
    contributions = torch.stack([linear * weight for weight in _Y_WEIGHTS])
    return contributions.numpy(), rgb_to_lightness((torch.arange(256) / 255.0).view(1, 1, 256))[0, 0].numpy()


_UINT8_LUMINANCE, _UINT8_GRAY_LIGHTNESS = _uint8_tables()


@functools.cache
def _lightness_of_luminance_table(steps: int = 1 << 16) -> np.ndarray:
    """L* at Y = i / steps, i = 0..steps, for linear interpolation (error < 1e-4 L units; float64 then rounded)."""
    return _luminance_to_lightness(torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)).float().numpy()


def array_to_lightness(pixels: np.ndarray, scale: float, is_lightness: bool = False) -> Tensor:
    """(H, W) gray or (H, W, 3) RGB array with ``pixels / scale`` in [0, 1] -> float32 L (1, H, W).

    Why row chunks: a 50-megapixel uint8 photo as one float32 tensor is 600 MB before the
    conversion's temporaries; slices keep the peak near the size of the result. Values are
    clipped to [0, 1] after scaling. ``is_lightness`` means the array already holds L / L_MAX
    (Pillow's "LAB" mode stores L as 0..255), so it is only rescaled.
    """
    eight_bit = pixels.dtype == np.uint8 and scale == 255.0 and not is_lightness
    if eight_bit and pixels.ndim == 3 and pixels.shape[-1] == 3 and kernels_available():
        # the common case, an 8-bit RGB photo: one compiled pass
        lightness = fused_lightness_from_rgb8(pixels, _UINT8_LUMINANCE, _lightness_of_luminance_table())
        return torch.from_numpy(lightness)[None]
    h, w = pixels.shape[:2]
    out = torch.empty((1, h, w), dtype=torch.float32)
    rows = max(1, _CHUNK_PIXELS // max(1, w))
    if eight_bit:  # table lookups
        for r in range(0, h, rows):
            chunk = pixels[r : r + rows]  # (rows, W), (rows, W, 1) or (rows, W, 3)
            if chunk.ndim == 2 or chunk.shape[-1] == 1:
                chunk = chunk.reshape(chunk.shape[:2])
                out[0, r : r + rows] = torch.from_numpy(_UINT8_GRAY_LIGHTNESS[chunk])
            else:
                red, green, blue = _UINT8_LUMINANCE
                y = red[chunk[..., 0]] + green[chunk[..., 1]] + blue[chunk[..., 2]]
                out[0, r : r + rows] = _luminance_to_lightness(torch.from_numpy(y))
        return out
    for r in range(0, h, rows):
        x = torch.from_numpy(np.array(pixels[r : r + rows], dtype=np.float32))  # (rows, W[, C]), own copy
        x = x.div_(scale).clamp_(0.0, 1.0)
        if is_lightness:
            out[0, r : r + rows] = x.mul_(L_MAX)
        else:
            x = x.unsqueeze(0) if x.ndim == 2 else x.permute(2, 0, 1)  # (rows, W[, C]) -> (C, rows, W)
            out[:, r : r + rows] = rgb_to_lightness(x)  # (1, rows, W)
    return out


def normalize_l(l: Tensor) -> Tensor:
    """Map L in [0, L_MAX] to [-1, 1], the range every model takes as input."""
    return l / (L_MAX / 2.0) - 1.0


def denormalize_l(x: Tensor) -> Tensor:
    """Inverse of :func:`normalize_l`: [-1, 1] -> L in [0, L_MAX]."""
    return (x + 1.0) * (L_MAX / 2.0)


def normalize_ab(ab: Tensor) -> Tensor:
    """Map a*, b* to about [-1, 1] by dividing by :data:`AB_SCALE` (no clamping here)."""
    return ab / AB_SCALE


def denormalize_ab(x: Tensor) -> Tensor:
    """Inverse of :func:`normalize_ab`: normalised ab -> a*, b* in Lab units."""
    return x * AB_SCALE


def rgb_to_normalized_lab(rgb: Tensor) -> tuple[Tensor, Tensor]:
    """Split a batch of sRGB images into normalised (L, ab) model inputs and targets.

    Args:
        rgb: (B, 3, H, W) float sRGB in [0, 1].

    Returns:
        ``(l, ab)``: normalised L (B, 1, H, W) in [-1, 1] and normalised ab (B, 2, H, W), both
        float32. Training data and inference both use this function so that the two can never
        disagree about the normalisation.
    """
    if not isinstance(rgb, Tensor) or rgb.ndim != 4:
        shape = tuple(rgb.shape) if isinstance(rgb, Tensor) else type(rgb).__name__
        raise ColorizationError(f"rgb must be a (B, 3, H, W) tensor, got {shape}; add a batch dimension.")
    lab = rgb_to_lab(rgb)  # (B, 3, H, W)
    return normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])
