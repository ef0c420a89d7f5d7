"""Inference-only rewrites of a loaded model: BatchNorms folded into convs, weights in their own channels_last memory.

Both change the model in place and keep its outputs (to float rounding); a model rewritten here is for inference
only. Which modules may not be folded is said by their type (`SummingConvNormAct`), not by an attribute.
"""

import logging

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from transformers import PreTrainedModel

from .models.layers import SummingConvNormAct

logger = logging.getLogger(__name__)


@torch.no_grad()
def copy_weights_channels_last(model: PreTrainedModel) -> PreTrainedModel:
    """Give every parameter and buffer memory of its own, conv weights in channels_last; in place.

    channels_last is the layout oneDNN convolutions run fastest in (predict_ab converts the inputs). The copy
    matters as much: safetensors loads tensors as views of the memory-mapped file, and one small view (a bias,
    the palette) keeps the whole file mapped, so its pages count a second time in the process's memory
    (about 90 MB over the bundled checkpoints).
    """
    for module in model.modules():
        for name, tensor in [*module._parameters.items(), *module._buffers.items()]:
            if tensor is None:
                continue
            copied = tensor.clone(memory_format=torch.channels_last if tensor.ndim == 4 else torch.contiguous_format)
            if name in module._parameters:
                tensor.data = copied
            else:
                module._buffers[name] = copied
    return model


def fold_batch_norms(model: PreTrainedModel) -> PreTrainedModel:
    """Fold every eval-mode BatchNorm2d that directly follows a conv in an nn.Sequential into that conv's weights,
    and those of every timm network inside the model (:func:`fold_attribute_batch_norms`).

    Why: at inference a BatchNorm is a fixed per-channel affine map, so the conv can apply it; the forward pass
    then skips one full pass over every feature map (5-20 % of the CPU forward time of the U-Nets). The numbers
    are the same to float rounding. A `SummingConvNormAct`, whose norm also scales terms added outside its conv,
    is left as it is. The model is changed in place and is for inference only: its state dict no longer has the
    BatchNorm entries, so a loaded colorizer is never saved or trained further (fine-tuning starts from the
    checkpoint folder, as `colorize-hub train --init_from` does).
    """
    timm_networks = [module for module in model.modules() if is_timm_network(module)]
    inside_timm = {id(part) for network in timm_networks for part in network.modules()}
    for module in list(model.modules()):
        if id(module) in inside_timm or isinstance(module, SummingConvNormAct):
            continue
        if isinstance(module, nn.Sequential):  # children run in registration order: every fold is right
            _fold_adjacent(module)
    for network in timm_networks:
        fold_attribute_batch_norms(network, timm_example_input(network))
    return model


def is_timm_network(module: nn.Module) -> bool:
    """A network built by `timm.create_model` (it carries its pretraining config)."""
    return type(module).__module__.startswith("timm.") and hasattr(module, "pretrained_cfg")


def timm_example_input(network: nn.Module) -> torch.Tensor:
    """A fixed random (1, C, 64, 64) input for checking that folding left a timm network's output unchanged."""
    channels = network.pretrained_cfg.get("input_size", (3,))[0]
    return torch.randn(1, channels, 64, 64, generator=torch.Generator().manual_seed(0))


@torch.no_grad()
def fold_attribute_batch_norms(module: nn.Module, example: torch.Tensor) -> int:
    """Fold the eval-mode BatchNorms that a timm network keeps as attributes (`conv_pw`, then `bn1`) into the conv
    registered just before each; returns how many were folded.

    In timm's blocks the order of registration is the order of the forward pass, but nothing promises that in
    general, so the folded network is checked on `example` and every fold is undone if its output moved.
    """
    expected = _as_tensors(module(example))
    folded = [fold for parent in list(module.modules()) for fold in _fold_adjacent(parent)]
    if folded and not all(torch.allclose(after, before, rtol=1e-4, atol=1e-4)
                          for after, before in zip(_as_tensors(module(example)), expected)):
        for parent, first, conv, second, norm in folded:
            parent._modules[first], parent._modules[second] = conv, norm
        logger.warning("%s: its BatchNorms were left unfolded (folding changed its output)", type(module).__name__)
        return 0
    return len(folded)


def _as_tensors(output) -> list[torch.Tensor]:
    """A network's output as a list of tensors (a classifier returns one, a `features_only` network a list)."""
    return list(output) if isinstance(output, (list, tuple)) else [output]


def _fold_adjacent(parent: nn.Module) -> list[tuple]:
    """Fold each eval-mode BatchNorm2d that `parent` registers right after a conv into that conv, in place; returns
    (parent, conv name, conv, norm name, norm) per fold, which is what undoing it takes.

    What a norm applies after normalising stays in its place: timm's BatchNormAct2d has dropout and an activation.
    """
    folded = []
    names = list(parent._modules)
    for first, second in zip(names, names[1:]):
        conv, norm = parent._modules[first], parent._modules[second]
        if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(norm, nn.BatchNorm2d) and not norm.training:
            parent._modules[first] = fuse_conv_bn_eval(conv, norm, transpose=isinstance(conv, nn.ConvTranspose2d))
            after = [m for m in (getattr(norm, "drop", None), getattr(norm, "act", None)) if isinstance(m, nn.Module)]
            parent._modules[second] = nn.Sequential(*after) if after else nn.Identity()
            folded.append((parent, first, conv, second, norm))
    return folded
