"""Lab -> displayable sRGB: colours sRGB cannot show lose chroma, never lightness; 8-bit output by table.

Every colorized image leaves the package through here (the image processor's full-resolution merge,
the evaluation's metrics), so it is written for speed on the CPU: planar float32 tensors, one 3x3
product, an (L, hue) table of the largest chroma sRGB shows instead of a per-pixel search, and the sRGB
curve plus rounding as one table lookup. The formulas and constants are kornia's (see
:mod:`colorize_hub.color`), and tests hold both paths to scikit-image.
"""

from __future__ import annotations

import functools
import math

import kornia.color
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import cie
from .color import AB_SCALE, L_MAX, as_float32
from .errors import ColorizationError
from .merge_kernels import fused_merge_to_srgb8, kernels_available

__all__ = ["lab_to_rgb_keep_lightness", "lab_to_srgb8_keep_lightness", "merge_to_srgb8"]

_GAMUT_TOLERANCE = 1.0 / 512  # a quarter of an 8-bit step: what rounding to uint8 hides anyway
# kornia's XYZ -> linear sRGB matrix (read off kornia itself: the images of the three unit vectors are its
# columns) with kornia's D65 white point folded into its columns, so that f(x), f(y), f(z) -> linear RGB is one
# 3x3 product.
_D65_WHITE = (0.95047, 1.0, 1.08883)
_XYZ_TO_LINEAR_RGB = kornia.color.xyz_to_rgb(torch.eye(3).view(3, 3, 1, 1))[:, :, 0, 0].T * torch.tensor(_D65_WHITE)
# The sRGB gamut with a tolerance of _GAMUT_TOLERANCE sRGB units on each side, as linear-RGB bounds.
_LINEAR_LOW = -_GAMUT_TOLERANCE / 12.92
_LINEAR_HIGH = ((1.0 + _GAMUT_TOLERANCE + 0.055) / 1.055) ** 2.4
_GAMUT_GRID = (256, 257)  # (L, hue) nodes of the max-chroma table
_ENCODE_STEPS = 1 << 16  # resolution of the linear -> 8-bit sRGB table (error < 0.03 of an 8-bit step)


def _lab_to_linear_rgb(lab: Tensor) -> Tensor:
    """Lab with channels FIRST, (3, ...) -> linear sRGB (3, ...), unclipped: kornia's formulas and constants.

    Channels-first (planar) because every step is then a pass over contiguous memory; the same
    arithmetic on channels-last data is about ten times slower on the CPU.
    """
    l, a, b = lab
    fy = (l + cie.L_OFFSET) / cie.L_SCALE
    f = torch.stack([fy + a / cie.A_SCALE, fy, (fy - b / cie.B_SCALE).clamp_(min=0.0)])  # (3, ...)
    cubed = f > cie.F_THRESHOLD  # CIE f^-1: the cube above the threshold, a line below it
    xyz = torch.where(cubed, f.pow(3), f.sub_(cie.LINEAR_OFFSET).div_(cie.LINEAR_SLOPE))  # f is not needed after this
    return (_XYZ_TO_LINEAR_RGB @ xyz.reshape(3, -1)).reshape(xyz.shape)


def _in_gamut(linear: Tensor) -> Tensor:
    """(3, ...) linear sRGB -> (...) bool: displayable within the tolerance."""
    return ((linear >= _LINEAR_LOW) & (linear <= _LINEAR_HIGH)).all(dim=0)


@functools.cache
def _max_chroma_table() -> Tensor:
    """(L, hue) grid -> the largest chroma sRGB can show there, found once by bisection (~0.1 s).

    The grid spans L in [0, 100] (rows) and hue in [0, 2 pi] (columns, the last one repeating the first).
    """
    lightness = torch.linspace(0.0, L_MAX, _GAMUT_GRID[0]).view(-1, 1).expand(_GAMUT_GRID)
    hue = torch.linspace(0.0, 2 * math.pi, _GAMUT_GRID[1]).expand(_GAMUT_GRID)
    low, high = torch.zeros(_GAMUT_GRID), torch.full(_GAMUT_GRID, 2.0 * AB_SCALE)
    for _ in range(24):
        middle = (low + high) / 2
        fits = _in_gamut(_lab_to_linear_rgb(torch.stack([lightness, middle * hue.cos(), middle * hue.sin()])))
        low, high = torch.where(fits, middle, low), torch.where(fits, high, middle)
    return low


def _max_chroma(lightness: Tensor, hue: Tensor) -> Tensor:
    """Bilinear lookup in :func:`_max_chroma_table` for (N,) L and (N,) hue in [-pi, pi]."""
    table = _max_chroma_table()
    rows, columns = table.shape
    row = (lightness / L_MAX * (rows - 1)).clamp_(0, rows - 1)
    column = torch.remainder(hue, 2 * math.pi) / (2 * math.pi) * (columns - 1)
    r0, c0 = row.floor().long().clamp_(max=rows - 2), column.floor().long().clamp_(max=columns - 2)
    dr, dc = row - r0, column - c0
    flat, index = table.view(-1), r0 * columns + c0
    top = flat[index] * (1 - dc) + flat[index + 1] * dc
    bottom = flat[index + columns] * (1 - dc) + flat[index + columns + 1] * dc
    return top * (1 - dr) + bottom * dr


def _linear_rgb_keep_lightness(lab: Tensor) -> Tensor:
    """(3, ...) Lab -> (3, ...) linear sRGB in which every out-of-gamut pixel kept its L and hue, not its chroma.

    Clipping R, G, B separately would move L (a saturated colour predicted on a near-black pixel turns into
    a visibly lighter one). Here the chroma of each out-of-gamut pixel is cut to the largest one sRGB shows
    at its L and hue, read from a precomputed (L, hue) table; only those pixels are converted again.
    Between table nodes the bound can overshoot by a hair, which the final clip to [0, 1] absorbs.
    """
    linear = _lab_to_linear_rgb(lab)
    outside = ~_in_gamut(linear)  # (...)
    if not outside.any():
        return linear
    l, a, b = lab[:, outside]  # (N,) each: only the out-of-gamut pixels
    chroma = torch.hypot(a, b)
    scale = (_max_chroma(l, torch.atan2(b, a)) / chroma.clamp(min=1e-6)).clamp_(max=1.0)
    linear[:, outside] = _lab_to_linear_rgb(torch.stack([l, a * scale, b * scale]))
    return linear


def lab_to_rgb_keep_lightness(lab: Tensor) -> Tensor:
    """Like :func:`lab_to_rgb`, but a colour that sRGB cannot show loses chroma, not lightness.

    Returns float32 sRGB (..., 3, H, W) in [0, 1]. See :func:`lab_to_srgb8_keep_lightness` for 8-bit output.
    """
    lab = as_float32(lab, "lab", (3,)).movedim(-3, 0)  # (3, ..., H, W)
    linear = _linear_rgb_keep_lightness(lab).movedim(0, -3)
    return kornia.color.linear_rgb_to_rgb(linear).clamp_(0.0, 1.0)


def _linear_to_srgb8_table() -> np.ndarray:
    """uint8 sRGB of the linear values i / (_ENCODE_STEPS - 1): the sRGB curve as one table lookup."""
    linear = torch.linspace(0.0, 1.0, _ENCODE_STEPS, dtype=torch.float64)
    return kornia.color.linear_rgb_to_rgb(linear.view(1, -1, 1).expand(3, -1, 1))[0, :, 0].mul(255).round().to(
        torch.uint8).numpy()


_LINEAR_TO_SRGB8 = _linear_to_srgb8_table()


def lab_to_srgb8_keep_lightness(lab: Tensor) -> np.ndarray:
    """(3, H, W) Lab -> (H, W, 3) uint8 sRGB, out-of-gamut colours handled as in :func:`lab_to_rgb_keep_lightness`.

    Why a separate 8-bit path: it is what the image processor returns for every colorized photo, and the
    sRGB curve (a power per channel) plus rounding is most of the cost of a full-resolution merge. A table
    lookup does both at once; it differs from rounding the float path by at most one 8-bit step, and only
    for values within 0.03 steps of a rounding boundary.
    """
    lab = as_float32(lab, "lab", (3,))
    if lab.ndim != 3:
        raise ColorizationError(f"lab must be one (3, H, W) image, got {tuple(lab.shape)}.")
    linear = _linear_rgb_keep_lightness(lab)  # (3, H, W)
    index = linear.clamp_(0.0, 1.0).mul_(_ENCODE_STEPS - 1).add_(0.5).to(torch.int32)  # (3, H, W)
    return _LINEAR_TO_SRGB8[index.permute(1, 2, 0).contiguous().numpy()]  # (H, W, 3), packed


_MERGE_CHUNK_PIXELS = 1 << 16  # tensor path: rows per slice, so temporaries stay small for 50-megapixel images


@functools.cache
def _kernel_tables() -> dict:
    """The constants and tables of this module, as the compiled merge kernel takes them."""
    return {
        "matrix": _XYZ_TO_LINEAR_RGB.double().numpy(),
        "bounds": (_LINEAR_LOW, _LINEAR_HIGH),
        "max_chroma_table": _max_chroma_table().numpy(),
        "l_max": float(L_MAX),
        "encode_table": _LINEAR_TO_SRGB8,
    }


def merge_to_srgb8(lightness: Tensor, ab: Tensor, gain: float, out: np.ndarray) -> None:
    """The full-resolution merge: fill out[..., :3] with 8-bit sRGB of L and upsampled, scaled ab.

    Args:
        lightness: (H, W) float32 L in [0, L_MAX] at the output's size.
        ab: (2, h, w) float32 normalised ab at any size; upsampled bilinearly (align_corners=False) to (H, W),
            multiplied by ``gain`` (AB_SCALE x saturation for normalised ab), clamped to +-AB_SCALE.
        out: (H, W, 3 or 4) uint8, written in place (a 4th channel, alpha, is left alone).

    Out-of-gamut colours lose chroma, not lightness, as in :func:`lab_to_srgb8_keep_lightness`. With numba
    installed this is one fused pass (:func:`colorize_hub.merge_kernels.fused_merge_to_srgb8`); without, the
    same arithmetic in row-chunked tensor operations.
    """
    h, w = lightness.shape
    # one reduction each, no mask; numpy's, on one thread: a torch reduction would leave torch's OpenMP threads
    # spinning, and they would take the cores from the merge's row bands for the next few milliseconds
    if not (math.isfinite(np.sum(ab.numpy())) and math.isfinite(np.sum(lightness.numpy()))):
        raise ColorizationError("The predicted ab or the L to merge contains NaN or infinity: the model's output is "
                                "broken (a damaged or diverged checkpoint); nothing was written.")
    if kernels_available():
        fused_merge_to_srgb8(lightness.numpy(), ab.numpy(), gain, AB_SCALE, out, **_kernel_tables())
        return
    full = F.interpolate(ab[None], size=(h, w), mode="bilinear", align_corners=False)[0]  # (2, H, W)
    full = full.mul_(gain).clamp_(-AB_SCALE, AB_SCALE)
    rows = max(1, _MERGE_CHUNK_PIXELS // w)
    for r in range(0, h, rows):
        lab = torch.cat([lightness[None, r : r + rows], full[:, r : r + rows]], dim=0)  # (3, rows, W)
        out[r : r + rows, :, :3] = lab_to_srgb8_keep_lightness(lab)
