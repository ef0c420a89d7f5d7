"""Image-quality metrics of colorization, computed in RGB against the ground truth."""

import torch
from torchmetrics.functional.image import peak_signal_noise_ratio

from ..color import denormalize_ab, denormalize_l
from ..gamut import lab_to_rgb_keep_lightness


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler & Süsstrunk (2003) colourfulness of (B, 3, H, W) RGB in [0, 1], on the 0-255 scale: (B,)."""
    red, green, blue = (rgb * 255).float().unbind(dim=-3)
    rg, yb = red - green, 0.5 * (red + green) - blue
    spread = torch.sqrt(rg.flatten(1).var(dim=1, unbiased=False) + yb.flatten(1).var(dim=1, unbiased=False))
    centre = torch.sqrt(rg.flatten(1).mean(dim=1) ** 2 + yb.flatten(1).mean(dim=1) ** 2)
    return spread + 0.3 * centre


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of (B, 3, H, W) RGB in [0, 1]: (B,)."""
    return peak_signal_noise_ratio(prediction, target, data_range=1.0, reduction="none", dim=(1, 2, 3))


def normalized_lab_to_rgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) normalised L + (B, 2, H, W) normalised ab -> (B, 3, H, W) RGB in [0, 1]."""
    return lab_to_rgb_keep_lightness(torch.cat([denormalize_l(lightness.float()), denormalize_ab(ab.float())], dim=1))


def colorization_metrics(lightness, predicted_ab, true_ab) -> dict[str, float]:
    """Mean PSNR and colourfulness of the prediction, of the gray baseline (ab = 0) and of the ground truth."""
    lightness, predicted_ab, true_ab = (torch.as_tensor(x) for x in (lightness, predicted_ab, true_ab))
    truth = normalized_lab_to_rgb(lightness, true_ab)
    predicted = normalized_lab_to_rgb(lightness, predicted_ab)
    gray = normalized_lab_to_rgb(lightness, torch.zeros_like(true_ab))
    return {
        "psnr": psnr(predicted, truth).mean().item(),
        "psnr_gray": psnr(gray, truth).mean().item(),
        "colourfulness": colourfulness(predicted).mean().item(),
        "colourfulness_truth": colourfulness(truth).mean().item(),
    }
