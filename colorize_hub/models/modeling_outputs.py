"""The one output type every colorization model returns."""

from dataclasses import dataclass

import torch
from transformers.utils import ModelOutput


@dataclass
class ColorizationOutput(ModelOutput):
    """Output of every `*ForColorization` model.

    Args:
        loss: training loss, present when `labels` were given.
        predicted_ab: (B, 2, H, W) predicted chroma in normalised ab units (ab / AB_SCALE), same H, W as the input.
        logits: (B, num_colors, H, W) class scores, only for models that classify colours.
        suggestion_logits: (B, num_suggestion_colors, H, W) scores of the colours a user might pick, only from
            models that take hints, when asked for (and in training).
    """

    loss: torch.FloatTensor | None = None
    predicted_ab: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    suggestion_logits: torch.FloatTensor | None = None
