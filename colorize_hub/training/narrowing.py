"""The way back from widening: a hint model without its hint inputs, computing exactly what it computes given none.

Fine-tuning for hints trains the whole decoder, on photos of which half carry no hints, so the hint model's
automatic colours can become better than those of the checkpoint it started from. Without hints every hint input
is zero: the widened convs' hint channels multiply zeros, and the hint entry conv adds only its bias to the
deepest encoder features. So the hint-free model keeps each conv's first input channels and takes that bias into
the bias of the BatchNorm that produces the deepest features (the last layer of an EfficientNet's last block, which
has no residual). `hint_free_copy` checks the result on a random input before returning it.
"""

import copy

import torch

from ..errors import ColorizationError
from .widening import widens

CHECK_TOLERANCE = 1e-4  # largest |ab| difference allowed on the check input (fp32 rounding is ~1e-7)


def deepest_batch_norm(model: torch.nn.Module) -> torch.nn.BatchNorm2d:
    """The BatchNorm whose output is the encoder's deepest feature map, for timm EfficientNet encoders."""
    block = model.encoder.blocks[-1][-1]
    norm = getattr(block, "bn3", None)
    if not isinstance(norm, torch.nn.BatchNorm2d) or getattr(block, "has_skip", True):
        raise ColorizationError(f"{model.config.backbone}: the deepest features do not come straight from a "
                                "BatchNorm, so the hint entry's bias cannot be folded into the encoder")
    return norm


@torch.no_grad()
def hint_free_copy(hint_model: torch.nn.Module) -> torch.nn.Module:
    """A model of the same class without hints whose output equals `hint_model`'s given no hints. `hint_model` as
    trained (from_pretrained), not one whose BatchNorms were folded for inference (`load_colorizer`)."""
    if not getattr(hint_model.config, "hints", False):
        raise ColorizationError("this checkpoint takes no hints: it is already hint-free")
    config = copy.deepcopy(hint_model.config)
    config.hints, config.suggestion_palette, config.hint_trained_size = False, None, None
    model = type(hint_model)(config).eval()
    source = hint_model.state_dict()
    for key, weight in model.state_dict().items():
        tensor = source[key]
        if widens(weight.shape, tensor.shape):
            tensor = tensor[:, : weight.shape[1]]  # the hint channels come last
        weight.copy_(tensor)
    norm = deepest_batch_norm(model)
    norm.bias += hint_model.hint_entry.bias.to(norm.bias.dtype)
    check_same_output(hint_model, model)
    return model


def check_same_output(hint_model: torch.nn.Module, model: torch.nn.Module) -> None:
    generator = torch.Generator().manual_seed(0)
    pixel_values = torch.rand(1, 1, 96, 128, generator=generator) * 2 - 1
    hint_model.eval()
    expected = hint_model(pixel_values=pixel_values).predicted_ab
    got = model(pixel_values=pixel_values).predicted_ab
    difference = (expected - got).abs().max().item()
    if difference > CHECK_TOLERANCE:
        raise ColorizationError(f"the hint-free copy differs from the hint model without hints by {difference:.2e}")
