"""Human names and one-line descriptions of checkpoints, for the demo's model list."""

import json
from pathlib import Path

# checkpoint folder name -> (human name, one-line description) for the dropdown
KNOWN_CHECKPOINTS = {
    "colorizer-baseline": ("Baseline", "plain conv encoder-decoder, L1 regression: the cautious reference point"),
    "colorizer-unet24": ("U-Net, 24 colours", "U-Net that picks one of 24 palette colours per pixel: bolder colour"),
    "colorizer-cunet": ("Dilated U-Net", "U-Net with dilated convolutions for wider context, L1 regression"),
    "colorizer-gan": ("GAN (pix2pix)", "pix2pix generator trained with an adversarial critic plus L1: livelier colour"),
    "colorizer-fusion": (
        "Fusion (general photos)",
        "EfficientNet-Lite0 scene features fused into a conv encoder-decoder, so the scene steers the colours",
    ),
    "colorizer-cunet-faces": ("Dilated U-Net (faces)", "the dilated U-Net trained on face crops: for portraits"),
    "colorizer-unet24-cifar-horse": (
        "U-Net, 24 colours (horses)",
        "trained only on tiny CIFAR-10 horse photos: a toy specialist, best on horses",
    ),
}
# model_type (config.json) -> architecture, for checkpoint folders not listed above
ARCHITECTURES = {
    "colorizer-baseline": "plain conv encoder-decoder",
    "colorizer-unet24": "U-Net choosing among 24 colours",
    "colorizer-cunet": "dilated U-Net",
    "colorizer-gan": "pix2pix GAN generator",
    "colorizer-fusion": "encoder-decoder fused with scene features",
}


def describe(name: str, folder: Path) -> tuple[str, str]:
    """(human name, description): from KNOWN_CHECKPOINTS, else readable defaults from the folder's config.json."""
    if name in KNOWN_CHECKPOINTS:
        return KNOWN_CHECKPOINTS[name]
    try:
        model_type = json.loads((folder / "config.json").read_text()).get("model_type", "")
    except (OSError, ValueError):
        model_type = ""
    architecture = ARCHITECTURES.get(model_type, model_type or "unknown architecture")
    return name.replace("-", " ").replace("_", " ").capitalize(), f"{architecture} (checkpoint folder {name})"
