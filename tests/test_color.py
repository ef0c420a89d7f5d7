"""Check colorize_hub.color against scikit-image, the reference Lab implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from colorize_hub import color
from colorize_hub.errors import ColorizationError


def _extreme_colours() -> np.ndarray:
    """Primaries, secondaries, black, white and a gray ramp: the gamut corners where errors hide."""
    corners = [[r, g, b] for r in (0.0, 1.0) for g in (0.0, 1.0) for b in (0.0, 1.0)]
    greys = [[v, v, v] for v in np.linspace(0.0, 1.0, 17)]
    dark = [[0.001, 0.002, 0.0], [0.01, 0.0, 0.02], [0.03, 0.03, 0.03]]  # linear-segment region
    return np.array(corners + greys + dark, dtype=np.float64)


def _random_colours(n: int = 4096) -> np.ndarray:
    return np.random.default_rng(0).random((n, 3))


def _to_tensor(colours: np.ndarray) -> torch.Tensor:
    """(N, 3) -> (1, 3, 1, N) float32 image."""
    return torch.from_numpy(colours.T.copy()).float()[None, :, None, :]


def _from_tensor(image: torch.Tensor) -> np.ndarray:
    """(1, 3, 1, N) -> (N, 3) float64."""
    return image[0, :, 0, :].T.double().numpy()


@pytest.mark.parametrize("colours", [_random_colours(), _extreme_colours()], ids=["random", "extreme"])
def test_rgb_to_lab_matches_skimage(colours: np.ndarray) -> None:
    ours = _from_tensor(color.rgb_to_lab(_to_tensor(colours)))
    ref = rgb2lab(colours[None])[0]
    assert deltaE_ciede2000(ours, ref).mean() < 0.5
    assert np.abs(ours - ref).max() < 0.1


@pytest.mark.parametrize("colours", [_random_colours(), _extreme_colours()], ids=["random", "extreme"])
def test_lab_to_rgb_matches_skimage(colours: np.ndarray) -> None:
    lab = rgb2lab(colours[None])[0]
    ours = _from_tensor(color.lab_to_rgb(_to_tensor(lab)))
    ref = lab2rgb(lab[None])[0]
    assert deltaE_ciede2000(rgb2lab(ours[None])[0], rgb2lab(ref[None])[0]).mean() < 0.5
    assert np.abs(ours - ref).max() < 1e-3


def test_round_trip_rgb_lab_rgb() -> None:
    rgb = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    back = color.lab_to_rgb(color.rgb_to_lab(rgb))
    assert (back - rgb).abs().max() < 1e-3


def test_lab_to_rgb_clips_out_of_gamut() -> None:
    lab = torch.tensor([100.0, 127.0, -127.0]).view(1, 3, 1, 1).expand(1, 3, 4, 4)
    rgb = color.lab_to_rgb(lab)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_gray_has_no_chroma() -> None:
    g = torch.linspace(0, 1, 101).view(1, 1, 1, 101).expand(1, 3, 1, 101)
    lab = color.rgb_to_lab(g)
    assert lab[:, 1:].abs().max() < 0.5


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64])
def test_conversions_compute_in_float32(dtype: torch.dtype) -> None:
    rgb = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    lab_ref = color.rgb_to_lab(rgb)
    lab = color.rgb_to_lab(rgb.to(dtype))
    assert lab.dtype == torch.float32
    assert (lab - lab_ref).abs().max() < 1.0  # only the input rounding differs
    back = color.lab_to_rgb(lab_ref.to(dtype))
    assert back.dtype == torch.float32


def test_lightness_matches_lab_and_gray_matches_rgb() -> None:
    rgb = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(color.rgb_to_lightness(rgb), color.rgb_to_lab(rgb)[:, :1], atol=1e-3)
    g = torch.linspace(0, 1, 64).view(1, 1, 1, 64)
    from_gray = color.rgb_to_lightness(g)
    from_rgb = color.rgb_to_lab(g.expand(1, 3, 1, 64))[:, :1]
    assert torch.allclose(from_gray, from_rgb, atol=1e-3)


def test_normalisation_round_trips_and_ranges() -> None:
    l = torch.linspace(0, color.L_MAX, 11)
    assert torch.allclose(color.denormalize_l(color.normalize_l(l)), l, atol=1e-5)
    assert color.normalize_l(torch.tensor(0.0)) == -1.0 and color.normalize_l(torch.tensor(100.0)) == 1.0
    ab = torch.linspace(-color.AB_SCALE, color.AB_SCALE, 11)
    assert torch.allclose(color.denormalize_ab(color.normalize_ab(ab)), ab, atol=1e-5)
    assert color.normalize_ab(torch.tensor(color.AB_SCALE)) == 1.0


def test_rgb_to_normalized_lab_shapes_and_ranges() -> None:
    rgb = torch.rand(3, 3, 10, 12, generator=torch.Generator().manual_seed(3))
    l, ab = color.rgb_to_normalized_lab(rgb)
    assert l.shape == (3, 1, 10, 12) and ab.shape == (3, 2, 10, 12)
    assert l.dtype == ab.dtype == torch.float32
    assert l.min() >= -1.0 and l.max() <= 1.0 and ab.abs().max() <= 1.0
    lab = torch.cat([color.denormalize_l(l), color.denormalize_ab(ab)], dim=1)
    assert (color.lab_to_rgb(lab) - rgb).abs().max() < 1e-3


@pytest.mark.parametrize(
    "bad",
    [np.zeros((3, 4, 4)), torch.zeros(1, 4, 4, 4), torch.zeros(3, 4), torch.zeros(1, 3, 4, 4, dtype=torch.uint8)],
    ids=["numpy", "4-channels", "2-d", "uint8"],
)
def test_bad_inputs_raise(bad: object) -> None:
    with pytest.raises(ColorizationError):
        color.rgb_to_lab(bad)  # type: ignore[arg-type]
    with pytest.raises(ColorizationError):
        color.rgb_to_normalized_lab(bad)  # type: ignore[arg-type]


def test_array_to_lightness_is_chunk_exact() -> None:
    """Several row chunks (600k pixels) and the LAB-mode shortcut give the same L as the tensor path."""
    rgb = np.random.default_rng(4).integers(0, 256, (600, 1000, 3), dtype=np.uint8)
    ref = color.rgb_to_lightness(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    assert torch.allclose(color.array_to_lightness(rgb, 255.0), ref, atol=1e-4)
    l8 = rgb[..., 0]
    assert torch.allclose(color.array_to_lightness(l8, 255.0, is_lightness=True)[0], torch.from_numpy(l8) / 2.55)


def test_uint8_gray_lightness_uses_the_same_curve() -> None:
    gray = np.random.default_rng(5).integers(0, 256, (700, 500), dtype=np.uint8)
    ref = color.rgb_to_lightness(torch.from_numpy(gray).float()[None] / 255)
    assert torch.allclose(color.array_to_lightness(gray, 255.0), ref, atol=1e-4)
    float_path = color.array_to_lightness(gray.astype(np.float32) / 255, 1.0)
    assert torch.allclose(color.array_to_lightness(gray, 255.0), float_path, atol=1e-4)
