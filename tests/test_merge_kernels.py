"""The fused full-resolution kernels (colorize_hub.merge_kernels) give the pixels of the tensor path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from colorize_hub import color, gamut
from colorize_hub import ColorizationError
from colorize_hub.color import AB_SCALE

pytestmark = pytest.mark.skipif(not gamut.kernels_available(), reason="numba is not installed")


def _scene(seed: int, size: tuple[int, int], render: int, chroma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-size L (H, W) over the whole range and render-size normalised ab (2, render, render)."""
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(size, generator=generator) * 100
    ab = (torch.rand(2, render, render, generator=generator) * 2 - 1) * chroma / AB_SCALE
    return lightness, ab


def _merged(lightness: torch.Tensor, ab: torch.Tensor, gain: float, fused: bool, monkeypatch) -> np.ndarray:
    out = np.zeros((*lightness.shape, 4), np.uint8)
    out[..., 3] = 7  # alpha: must be left alone
    with monkeypatch.context() as patch:
        patch.setattr(gamut, "kernels_available", lambda: fused)
        gamut.merge_to_srgb8(lightness, ab, gain, out)
    assert (out[..., 3] == 7).all()
    return out[..., :3]


@pytest.mark.parametrize("chroma", [10.0, 60.0, 110.0], ids=["muted", "vivid", "out-of-gamut"])
@pytest.mark.parametrize("size", [(97, 131), (256, 256), (300, 41)], ids=["upsampled", "same-size", "tall-narrow"])
def test_fused_merge_matches_the_tensor_path(chroma: float, size: tuple[int, int], monkeypatch) -> None:
    """Bilinear upsampling, gain, clamp, gamut and encoding agree to one 8-bit step, and exactly almost everywhere."""
    lightness, ab = _scene(0, size, 64 if size != (256, 256) else 256, chroma)
    gain = AB_SCALE * 1.3
    fused = _merged(lightness, ab, gain, True, monkeypatch)
    reference = _merged(lightness, ab, gain, False, monkeypatch)
    difference = np.abs(fused.astype(int) - reference)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


def test_fused_merge_of_zero_ab_gives_back_the_gray_codes(monkeypatch) -> None:
    codes = torch.arange(256, dtype=torch.float32).view(1, 1, 256) / 255
    lightness = color.rgb_to_lightness(codes)[0]  # (1, 256)
    merged = _merged(lightness, torch.zeros(2, 1, 8), AB_SCALE, True, monkeypatch)
    np.testing.assert_array_equal(merged[0], np.repeat(np.arange(256)[:, None], 3, axis=1))


def test_row_bands_and_concurrent_calls_give_the_same_pixels(monkeypatch) -> None:
    """Two torch threads split the rows into bands; calls from several Python threads at once do not mix."""
    scenes = [_scene(seed, (600, 500), 64, 80.0) for seed in range(4)]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one_band = [_merged(lightness, ab, AB_SCALE, True, monkeypatch) for lightness, ab in scenes]
        torch.set_num_threads(2)
        with ThreadPoolExecutor(4) as pool:
            banded = list(pool.map(lambda scene: _merged(*scene, AB_SCALE, True, monkeypatch), scenes))
    finally:
        torch.set_num_threads(threads)
    for expected, got in zip(one_band, banded):
        np.testing.assert_array_equal(got, expected)


def test_fused_lightness_matches_the_float_formula_for_every_kind_of_8bit_rgb() -> None:
    generator = np.random.default_rng(1)
    rgb = generator.integers(0, 256, (123, 77, 4), dtype=np.uint8)
    for pixels in (rgb[..., :3].copy(), rgb[..., :3], np.zeros((5, 5, 3), np.uint8), np.full((2, 3, 3), 255, np.uint8)):
        reference = color.rgb_to_lightness(torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1))
        torch.testing.assert_close(color.array_to_lightness(pixels, 255.0), reference, atol=1e-4, rtol=0)


def test_colorize_hub_numba_0_selects_the_tensor_path(monkeypatch) -> None:
    from colorize_hub import merge_kernels

    merge_kernels._numba.cache_clear()
    monkeypatch.setenv("COLORIZE_HUB_NUMBA", "0")
    try:
        assert not merge_kernels.kernels_available()
    finally:
        merge_kernels._numba.cache_clear()
    monkeypatch.delenv("COLORIZE_HUB_NUMBA")
    assert merge_kernels.kernels_available()


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "tensor"])
def test_a_nan_prediction_is_refused_with_a_message(fused: bool, monkeypatch) -> None:
    lightness, ab = _scene(2, (40, 30), 8, 50.0)
    ab[0, 3, 3] = float("nan")
    with pytest.raises(ColorizationError, match="NaN or infinity"):
        _merged(lightness, ab, AB_SCALE, fused, monkeypatch)
