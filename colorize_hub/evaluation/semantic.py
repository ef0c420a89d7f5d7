"""Semantic interpretability (Zhang et al. 2016): does an ImageNet classifier recognise the colorized image
better than the gray one? Scored with the offline EfficientNet-Lite0 when the photos' classes are known: from
file names that carry ImageNet wnids (n01440764_tench.JPEG), or from the `val_annotations.txt` that Tiny
ImageNet's val split keeps beside its `images/` folder."""

import re
from functools import lru_cache
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from timm.data import ImageNetInfo

from ..models.backbones import load_backbone_imagenet_weights

WNID = re.compile(r"^(n\d{8})_")
CLASSIFIER = "tf_efficientnet_lite0"


ANNOTATIONS = "val_annotations.txt"


def imagenet_label(path: Path) -> int | None:
    """Class index from a file name like n01440764_tench.JPEG or from Tiny ImageNet's annotations, or None."""
    path = Path(path)
    match = WNID.match(path.name)
    wnid = match.group(1) if match else _annotated_wnids(path.parent).get(path.name)
    return _wnid_index().get(wnid) if wnid else None


@lru_cache(maxsize=8)
def _annotated_wnids(folder: Path) -> dict[str, str]:
    """File name -> wnid from a `val_annotations.txt` (tab-separated: name, wnid, box) in `folder` or up to two
    folders above it (Tiny ImageNet keeps it beside val/images/; the extracted copy one level higher)."""
    for candidate in (folder / ANNOTATIONS, folder.parent / ANNOTATIONS, folder.parent.parent / ANNOTATIONS):
        if candidate.is_file():
            rows = (line.split("\t") for line in candidate.read_text().splitlines() if line.strip())
            return {row[0]: row[1] for row in rows if len(row) >= 2}
    return {}


@lru_cache(maxsize=1)
def _wnid_index() -> dict[str, int]:
    """ImageNet-1k wnid -> class index (timm ships the list, so no download)."""
    return {wnid: index for index, wnid in enumerate(ImageNetInfo().label_names())}


def imagenet_classifier(name: str = CLASSIFIER, source: str = "package") -> torch.nn.Module:
    """The timm ImageNet classifier `name`, frozen and in eval mode (weights: `load_backbone_imagenet_weights`)."""
    model = timm.create_model(name).eval().requires_grad_(False)
    load_backbone_imagenet_weights(model, name, source=source)
    return model


def normalise_for(model: torch.nn.Module, rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> the input `model` was trained on (its pretrained mean and std)."""
    mean = rgb.new_tensor(model.pretrained_cfg["mean"]).view(1, 3, 1, 1)
    std = rgb.new_tensor(model.pretrained_cfg["std"]).view(1, 3, 1, 1)
    return (rgb - mean) / std


@lru_cache(maxsize=1)
def classifier() -> torch.nn.Module:
    return imagenet_classifier()


@torch.inference_mode()
def top1(rgb: torch.Tensor) -> int:
    """Predicted ImageNet class of one (1, 3, H, W) RGB image in [0, 1] (resize shorter side 256, centre 224)."""
    height, width = rgb.shape[-2:]
    scale = 256 / min(height, width)
    # (1, 3, H, W) -> (1, 3, ~256, ~256) -> centre crop (1, 3, 224, 224)
    resized = F.interpolate(rgb, size=(round(height * scale), round(width * scale)), mode="bilinear",
                            antialias=True, align_corners=False)
    top, left = (resized.shape[-2] - 224) // 2, (resized.shape[-1] - 224) // 2
    crop = resized[..., top : top + 224, left : left + 224]
    return int(classifier()(normalise_for(classifier(), crop)).argmax(dim=1))
