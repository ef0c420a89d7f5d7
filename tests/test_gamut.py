"""Lab -> displayable sRGB (colorize_hub.gamut): lightness is kept, chroma is cut only as far as needed."""

from __future__ import annotations

import kornia
import numpy as np
import pytest
import torch

from colorize_hub import color, gamut


def test_out_of_gamut_colours_lose_chroma_not_lightness():
    generator = torch.Generator().manual_seed(0)
    lab = torch.rand(1, 3, 64, 64, generator=generator)
    lab[:, 0] *= 100
    lab[:, 1:] = lab[:, 1:] * 220 - 110  # many of these are far outside sRGB
    rgb = gamut.lab_to_rgb_keep_lightness(lab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    lightness_error = (color.rgb_to_lab(rgb)[:, 0] - lab[:, 0]).abs()
    assert lightness_error.max() < 1.0
    clipped_error = (color.rgb_to_lab(color.lab_to_rgb(lab))[:, 0] - lab[:, 0]).abs()
    assert clipped_error.max() > 5  # what per-channel clipping would have done
    in_gamut = color.rgb_to_lab(torch.rand(1, 3, 16, 16, generator=generator))
    torch.testing.assert_close(gamut.lab_to_rgb_keep_lightness(in_gamut), color.lab_to_rgb(in_gamut))


@pytest.mark.parametrize("chroma", [10.0, 60.0, 110.0], ids=["muted", "vivid", "out-of-gamut"])
def test_srgb8_output_is_the_rounded_float_path(chroma: float) -> None:
    """The 8-bit merge matches rounding lab_to_rgb_keep_lightness to within one step, and exactly almost everywhere."""
    generator = torch.Generator().manual_seed(6)
    lab = torch.rand(3, 200, 300, generator=generator)
    lab[0] *= 100
    lab[1:] = (lab[1:] * 2 - 1) * chroma
    ref = (gamut.lab_to_rgb_keep_lightness(lab[None])[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    ours = gamut.lab_to_srgb8_keep_lightness(lab)
    assert ours.shape == (200, 300, 3) and ours.dtype == np.uint8 and ours.flags.c_contiguous
    difference = np.abs(ours.astype(int) - ref)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


def test_srgb8_gray_is_exact() -> None:
    """ab = 0 gives back the gray level that produced L, for every 8-bit code."""
    codes = torch.arange(256, dtype=torch.float32).view(1, 1, 256) / 255
    lab = torch.cat([color.rgb_to_lightness(codes), torch.zeros(2, 1, 256)])
    np.testing.assert_array_equal(gamut.lab_to_srgb8_keep_lightness(lab)[0, :, 0], np.arange(256))


def test_out_of_gamut_colours_keep_nearly_all_the_chroma_sRGB_allows():
    """The table-based bound is within 2 % of the exact largest in-gamut chroma, found here by bisection."""
    generator = torch.Generator().manual_seed(7)
    lab = torch.rand(3, 1, 2000, generator=generator)
    lab[0] = lab[0] * 90 + 5
    lab[1:] = lab[1:] * 220 - 110
    low, high = torch.zeros(2000), torch.ones(2000)
    for _ in range(30):
        middle = (low + high) / 2
        trial = kornia.color.lab_to_rgb(torch.cat([lab[:1], lab[1:] * middle.view(1, 1, -1)]), clip=False)
        fits = ((trial >= -1 / 512) & (trial <= 1 + 1 / 512)).all(dim=0)[0]
        low, high = torch.where(fits, middle, low), torch.where(fits, high, middle)
    exact = low * torch.hypot(lab[1, 0], lab[2, 0])
    mapped = color.rgb_to_lab(gamut.lab_to_rgb_keep_lightness(lab[None]))[0, :, 0]
    kept = torch.hypot(mapped[1], mapped[2])
    assert (kept >= 0.98 * exact - 0.5).all()
    assert (kept <= 1.02 * exact + 0.5).all()
    assert (mapped[0] - lab[0, 0]).abs().max() < 1.0
