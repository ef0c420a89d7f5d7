"""User colour hints as model inputs (Zhang et al., SIGGRAPH 2017, "Real-Time User-Guided Image Colorization").

A hint is a small patch of the render-size image whose chroma the user has chosen: `hint_ab` (B, 2, H, W) holds
the normalised ab of every hinted pixel (0 elsewhere), `hint_mask` (B, 1, H, W) is 1 on hinted pixels, 0 elsewhere.
A model that takes hints sees them at each scale of its decoder as three channels: the mean hint ab of each cell
and whether the cell holds a hint at all. This file sits beside the modeling files: remote code copies a modeling
file with its sibling imports only.
"""

import torch
import torch.nn.functional as F

HINT_CHANNELS = 3  # mean hint ab (2) + hint present (1)
# Hint features are scaled up by this constant. The weights that read them start at zero, and Adam moves a weight by
# about the learning rate per step whatever its gradient, so the effect of a step on the output grows with the
# input's scale: at 1 (normalised ab is about +-0.3), hints had barely any effect after 500 steps of fine-tuning.
HINT_GAIN = 10.0


def check_hints(pixel_values: torch.Tensor, hint_ab: torch.Tensor | None, hint_mask: torch.Tensor | None) -> None:
    """Both or neither; shapes (B, 2, H, W) and (B, 1, H, W) matching the (B, 1, H, W) input."""
    if (hint_ab is None) != (hint_mask is None):
        raise ValueError("hint_ab and hint_mask go together: pass both or neither")
    if hint_ab is None:
        return
    batch, _, height, width = pixel_values.shape
    if tuple(hint_ab.shape) != (batch, 2, height, width) or tuple(hint_mask.shape) != (batch, 1, height, width):
        raise ValueError(f"hints must be hint_ab (B, 2, H, W) and hint_mask (B, 1, H, W) for input "
                         f"{tuple(pixel_values.shape)}; got {tuple(hint_ab.shape)} and {tuple(hint_mask.shape)}")


def hint_features(hint_ab: torch.Tensor, hint_mask: torch.Tensor, size: tuple[int, int],
                  trained_size: int | None = None) -> torch.Tensor:
    """(B, 2, H, W) hint ab and (B, 1, H, W) mask -> (B, 3, h, w) at `size`: each cell's mean hint ab over its
    hinted pixels (0 where none) and 1 where the cell holds any hinted pixel, times HINT_GAIN.

    With `trained_size` below H or W, the cells are those of an input of that side (a coarser grid: h * trained_size
    / H rows), each repeated over the finer cells it spans, so a hint covers the share of the input it covered in
    training."""
    height, width = hint_ab.shape[-2:]
    grid = tuple(size)
    if trained_size is not None:
        grid = tuple(max(1, min(cells, round(cells * trained_size / side)))
                     for cells, side in zip(size, (height, width)))
    mask = hint_mask.float()
    # area means over each cell: (B, C, H, W) -> (B, C, *grid)
    coverage = F.adaptive_avg_pool2d(mask, grid)
    ab_sum = F.adaptive_avg_pool2d(hint_ab.float() * mask, grid)
    present = (coverage > 0).float()
    ab_mean = ab_sum / coverage.clamp_min(1e-6)
    features = HINT_GAIN * torch.cat([ab_mean * present, present], dim=1)
    if grid != tuple(size):  # (B, 3, *grid) -> (B, 3, h, w), each coarse cell over the fine cells it spans
        features = F.interpolate(features, size=tuple(size), mode="nearest")
    return features
