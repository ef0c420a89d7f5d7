"""Extra training objectives, chosen by training arguments (the models' own forward loss stays plain).

An L1/L2 regression of ab converges to the conditional median/mean colour, which for anything whose
colour is uncertain (clothes, cars, walls) is a desaturated brown-gray. The under-saturation term charges
the prediction for every unit of chroma it lacks where the truth has it, and nothing for being too vivid,
which pushes the model to commit to a plausible colour.
"""

import torch
import torch.nn.functional as F


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
