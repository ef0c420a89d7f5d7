import pytest
import torch
from PIL import Image
from skimage import data

import colorize_hub


def tiny_config(model_type: str, variant: str = "default") -> dict:
    """The smallest config of a registered architecture: its record's `tiny_configs[variant]`."""
    return dict(colorize_hub.MODEL_REGISTRY[model_type].tiny_configs[variant])


# the registered architectures' default tiny configs (a test that registers another one reads its record directly)
TINY_CONFIGS = {model_type: tiny_config(model_type) for model_type in colorize_hub.MODEL_REGISTRY}
# every (architecture, variant) the registry lists: e.g. a config-selected palette head is its own variant
TINY_VARIANTS = [(model_type, variant) for model_type, record in colorize_hub.MODEL_REGISTRY.items()
                 for variant in record.tiny_configs]


def build_tiny(model_type: str, seed: int = 0, **overrides):
    """A tiny `model_type` model, seeded; `overrides` change its config (e.g. backbone_feature_stage=3)."""
    record = colorize_hub.MODEL_REGISTRY[model_type]
    config_class, model_class = record.config_class, record.model_class
    torch.manual_seed(seed)
    return model_class(config_class(**{**tiny_config(model_type), **overrides}))


@pytest.fixture(params=sorted(colorize_hub.MODEL_REGISTRY))
def model_type(request):
    return request.param


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Six small skimage colour photos (96x80) in a folder: training data for the training tests."""
    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina"):
        Image.fromarray(getattr(data, name)()).resize((96, 80)).save(folder / f"{name}.png")
    return folder
