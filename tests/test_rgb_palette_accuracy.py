"""The RGB k-means palette accuracy (the seed U-Net's measure) on tiny synthetic data."""

import numpy as np
import pytest
import torch
from PIL import Image

from colorize_hub.evaluation.rgb_palette_accuracy import (fit_rgb_palette, nearest_centre, palette_accuracy,
                                                          photo_pixels)

# four well-separated colours, so k-means with four centres must find them
COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.8, 0.2], [0.1, 0.2, 0.9], [0.9, 0.9, 0.2]])


def noisy_pixels(seed: int = 0, per_colour: int = 200) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    pixels = COLOURS.repeat_interleave(per_colour, dim=0)
    return (pixels + 0.03 * torch.randn(pixels.shape, generator=generator)).clamp(0, 1)


def test_centres_are_deterministic_and_find_the_colours():
    pixels = noisy_pixels()
    centres = fit_rgb_palette(pixels, count=4, seed=3)
    assert torch.equal(centres, fit_rgb_palette(pixels, count=4, seed=3))
    # another seed starts elsewhere but lands on the same four colours, in the same (sorted) order
    assert torch.allclose(centres, fit_rgb_palette(pixels, count=4, seed=7), atol=1e-5)
    nearest_true = torch.cdist(centres, COLOURS).min(dim=1).values
    assert nearest_true.max() < 0.02


def test_accuracy_is_one_for_the_truth_and_lower_for_wrong_colours():
    centres = fit_rgb_palette(noisy_pixels(), count=4)
    # (1, 3, 4, 4) truth: the left half red, the right half blue
    truth = torch.empty(1, 3, 4, 4)
    truth[..., :2] = COLOURS[0].view(1, 3, 1, 1)
    truth[..., 2:] = COLOURS[2].view(1, 3, 1, 1)
    assert palette_accuracy(truth.clone(), truth, centres) == 1.0
    wrong = truth.clone()
    wrong[..., 2:] = COLOURS[1].view(1, 3, 1, 1)  # the blue half painted green
    assert palette_accuracy(wrong, truth, centres) == pytest.approx(0.5)
    assert palette_accuracy(torch.zeros_like(truth), truth, centres) < 0.5
    with pytest.raises(ValueError):
        palette_accuracy(truth[..., :2], truth, centres)


def test_nearest_centre_keeps_the_leading_shape():
    centres = COLOURS
    rgb = COLOURS[[2, 0, 3]].view(1, 3, 3)  # (1, 3 pixels, 3 channels)
    assert nearest_centre(rgb, centres).tolist() == [[2, 0, 3]]


def test_photo_pixels_reads_every_pixel_of_every_photo(tmp_path):
    Image.fromarray(np.full((2, 3, 3), 255, np.uint8)).save(tmp_path / "white.png")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "black.png")
    pixels = photo_pixels(tmp_path)
    assert pixels.shape == (6 + 16, 3)
    assert sorted(pixels.sum(dim=1).unique().tolist()) == [0.0, 3.0]
