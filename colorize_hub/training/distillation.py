"""Distillation: a small model learns from a stronger colorizer's ab as well as from the truth.

The truth's ab holds colours that the gray photo cannot tell (a red or a blue shirt), so a regression loss pulls a
small model towards the brown-gray average wherever the colour is uncertain, and a classifier of colours towards
the commonest class. A stronger colorizer's prediction (e.g. `colorizer-encoder-unet`, whose ImageNet encoder
knows what the photo shows) is a function of the gray photo alone: what of the colour can be told from it. With
`--teacher CHECKPOINT --teacher_share S` the reconstruction target becomes (1 − S) × truth + S × the teacher's ab
at gain 1 (Hinton et al. 2015, on targets instead of logits); every other term (the classifier-consistency term,
the GAN's discriminator) keeps the truth.
"""

import torch

from ..loading import load_colorizer


class TeacherTargets:
    """`targets(pixel_values, true_ab)` -> the blended reconstruction target, from a frozen colorizer."""

    def __init__(self, checkpoint: str, share: float):
        if not 0.0 < share <= 1.0:
            raise ValueError(f"--teacher_share must be in (0, 1], not {share}")
        model, _ = load_colorizer(checkpoint)
        if getattr(model.config, "hints", False):
            raise ValueError(f"{checkpoint!r} takes colour hints; distil from a model that colours without them")
        self.teacher = model  # in eval mode (load_colorizer); `targets` runs it without gradients
        self.share = share

    @torch.no_grad()
    def targets(self, pixel_values: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) normalised L, (B, 2, H, W) normalised true ab -> the blended (B, 2, H, W) target."""
        teacher = self.teacher.to(pixel_values.device)
        # every model crops its output to the input's size, so the teacher's ab lines up with the truth's
        predicted = teacher(pixel_values=pixel_values.contiguous(memory_format=torch.channels_last)).predicted_ab
        return torch.lerp(true_ab.float(), predicted.float(), self.share).to(true_ab.dtype)
