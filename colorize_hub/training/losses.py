"""Extra training objectives, chosen by training arguments (the models' own forward loss stays plain).

An L1/L2 regression of ab converges to the conditional median/mean colour, which for anything whose
colour is uncertain (clothes, cars, walls) is a desaturated brown-gray. The under-saturation term charges
the prediction for every unit of chroma it lacks where the truth has it, and nothing for being too vivid,
which pushes the model to commit to a plausible colour.
"""

import torch
import torch.nn.functional as F

from ..color import denormalize_ab, denormalize_l, lab_to_rgb
from ..evaluation.semantic import imagenet_classifier, normalise_for


def chroma(ab: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) ab -> (B, H, W) chroma sqrt(a² + b²), differentiable at 0."""
    return torch.sqrt(ab.float().square().sum(dim=1) + 1e-8)


def undersaturation(predicted_ab: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean chroma missing from the prediction: relu(chroma(truth) - chroma(prediction))."""
    return F.relu(chroma(labels) - chroma(predicted_ab)).mean()


class RegressionLoss:
    """`Trainer(compute_loss_func=...)`: L1 on ab + `undersaturation_weight` x the under-saturation term."""

    def __init__(self, undersaturation_weight: float):
        self.undersaturation_weight = undersaturation_weight

    def __call__(self, outputs, labels, num_items_in_batch=None) -> torch.Tensor:
        predicted = outputs["predicted_ab"].float()
        loss = F.l1_loss(predicted, labels.float())
        return loss + self.undersaturation_weight * undersaturation(predicted, labels)


def srgb_of(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) normalised L + (B, 2, H, W) normalised ab -> (B, 3, H, W) sRGB in [0, 1], differentiable."""
    if ab.shape[-2:] != lightness.shape[-2:]:
        ab = F.interpolate(ab.float(), size=lightness.shape[-2:], mode="bilinear", align_corners=False)
    return lab_to_rgb(torch.cat([denormalize_l(lightness.float()), denormalize_ab(ab.float())], dim=1))


class RgbReconstruction:
    """Squared error of the colorized photo in sRGB, the space PSNR is measured in.

    L1 on ab treats a unit of chroma alike everywhere and converges to the median colour; the displayed photo's
    error depends on lightness (chroma moves dark pixels' RGB less) and on the gamut, and PSNR charges it squared,
    which rewards hedging between plausible colours rather than committing to the likelier one. Both photos share
    the input's L, so this is the colour's error alone.
    """

    def __call__(self, lightness: torch.Tensor, predicted_ab: torch.Tensor, target_ab: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = srgb_of(lightness, target_ab)
        return F.mse_loss(srgb_of(lightness, predicted_ab), target)


class ClassifierConsistency:
    """Semantic term: a frozen ImageNet classifier should see the same objects in the colorized photo as in the true one.

    Both RGB images (the batch's L with the predicted and with the true ab) go through the classifier at the
    training crop size, or resized to `image_size` (a classifier recognises small photos better near the size it
    was trained at: EfficientNet-Lite2 gets 32% of 64-pixel Tiny ImageNet photos right at 128, 37% at 192); the term is KL(p(true) || p(colorized)) at temperature `temperature` (Hinton et al.
    2015), scaled by T² so its gradient does not shrink with T. Colours that make a dog look like a fox cost here
    even when their L1 error is small, which plain regression does not see. The classifier gets no gradient.

    `chroma_gain` shows the classifier the prediction as users see it: multiplied by the checkpoint's calibrated
    chroma gain and clamped as the processor does, so a wrong hue is charged at the strength it will be displayed.

    `relative_to_gray` charges each photo only for the divergence beyond the gray photo's (its L with ab = 0):
    max(0, KL(true || colorized) - KL(true || gray)). Colours no worse for recognition than no colour at all cost
    nothing, so the term spends its weight where colour makes a photo harder to recognise than gray, the bar a
    colorizer must clear, and leaves the rest to the reconstruction loss.
    """

    def __init__(self, classifier_name: str, temperature: float = 2.0, weights_source: str = "auto",
                 image_size: int = 0, chroma_gain: float = 1.0, relative_to_gray: bool = False):
        self.classifier = imagenet_classifier(classifier_name, weights_source).to(memory_format=torch.channels_last)
        self.temperature = temperature
        self.image_size = image_size  # 0: the training crop size
        if not chroma_gain > 0:
            raise ValueError(f"the semantic term's chroma gain must be positive, got {chroma_gain!r}")
        self.chroma_gain = chroma_gain
        self.relative_to_gray = relative_to_gray

    def _log_probabilities(self, lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        # (B, 1, S, S) normalised L + (B, 2, S, S) normalised ab -> (B, 3, S, S) sRGB -> (B, 1000) log p
        rgb = srgb_of(lightness, ab)
        if self.image_size and rgb.shape[-2:] != (self.image_size, self.image_size):
            rgb = F.interpolate(rgb, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        normalised = normalise_for(self.classifier, rgb).contiguous(memory_format=torch.channels_last)
        return F.log_softmax(self.classifier.to(rgb.device)(normalised) / self.temperature, dim=1)

    def __call__(self, lightness: torch.Tensor, predicted_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self._log_probabilities(lightness, true_ab)
        if predicted_ab.shape[-2:] != lightness.shape[-2:]:
            predicted_ab = F.interpolate(predicted_ab.float(), size=lightness.shape[-2:], mode="bilinear",
                                         align_corners=False)
        if self.chroma_gain != 1.0:
            predicted_ab = (predicted_ab.float() * self.chroma_gain).clamp(-1.0, 1.0)
        kl = _kl_per_photo(self._log_probabilities(lightness, predicted_ab), target)
        if self.relative_to_gray:
            with torch.no_grad():
                gray_kl = _kl_per_photo(self._log_probabilities(lightness, torch.zeros_like(true_ab)), target)
            kl = (kl - gray_kl).clamp_min(0)
        return kl.mean() * self.temperature**2


def _kl_per_photo(log_q: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """(B, C) log-probabilities -> (B,) KL(p || q)."""
    return (log_p.exp() * (log_p - log_q)).sum(dim=1)
