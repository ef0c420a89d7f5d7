"""Fine-tuning a checkpoint into a model with more inputs: a hint-free checkpoint becomes one that takes hints.

Every tensor of the checkpoint is copied into the model; a conv whose input grew (more channels in dimension 1,
appended last) gets the checkpoint's weights in its first channels and zeros in the new ones, and the layers the
checkpoint lacks keep the model's own initialisation. Zero weights on new inputs make the widened model compute
exactly what the checkpoint computed, until training teaches it to use them.
"""

import logging
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..errors import ColorizationError

logger = logging.getLogger(__name__)


def widens(old: torch.Size, new: torch.Size) -> bool:
    """Whether a tensor of shape `new` is one of shape `old` with more input channels (dimension 1)."""
    return len(old) == len(new) >= 2 and old[0] == new[0] and old[2:] == new[2:] and new[1] > old[1]


@torch.no_grad()
def load_widened(model: torch.nn.Module, folder: str | Path) -> dict[str, list[str]]:
    """Load `folder`'s model.safetensors into `model` as the module docstring says; returns the widened and the
    new tensor names."""
    source = load_file(Path(folder) / "model.safetensors")
    target = model.state_dict()
    unknown = sorted(set(source) - set(target))
    if unknown:
        raise ColorizationError(f"{folder} has weights this model lacks ({', '.join(unknown[:5])}): not a "
                                "checkpoint of the same architecture")
    widened = []
    for key, tensor in source.items():
        weight = target[key]
        if weight.shape == tensor.shape:
            weight.copy_(tensor)
        elif widens(tensor.shape, weight.shape):
            weight.zero_()
            weight[:, : tensor.shape[1]].copy_(tensor)
            widened.append(key)
        else:
            raise ColorizationError(f"{key}: {tuple(tensor.shape)} in {folder} cannot become {tuple(weight.shape)}")
    new = sorted(set(target) - set(source))
    logger.info("fine-tuning %s with wider inputs: %d tensors widened (%s), %d new (%s)", folder, len(widened),
                ", ".join(widened), len(new), ", ".join(new))
    return {"widened": widened, "new": new}
