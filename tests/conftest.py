import pytest
import torch

import colorize_hub

# The smallest config of every registered architecture: the parametrised tests run on these.
TINY_CONFIGS = {
    "colorizer-baseline": dict(hidden_sizes=[8, 16]),
    "colorizer-unet24": dict(hidden_sizes=[8, 16, 16]),
    "colorizer-cunet": dict(hidden_sizes=[8, 16], dilations=[2, 4]),
    "colorizer-gan": dict(generator_hidden_sizes=[8, 8, 16, 16, 16], discriminator_hidden_sizes=[8] * 6),
    "colorizer-fusion": dict(
        backbone="test_efficientnet", backbone_image_size=64, encoder_hidden_sizes=[8, 16], fusion_size=16
    ),
}


def build_tiny(model_type: str, seed: int = 0, **overrides):
    """A tiny `model_type` model, seeded; `overrides` change its config (e.g. backbone_feature_stage=3)."""
    config_class, model_class = colorize_hub.MODEL_REGISTRY[model_type]
    torch.manual_seed(seed)
    return model_class(config_class(**{**TINY_CONFIGS[model_type], **overrides}))


@pytest.fixture(params=sorted(colorize_hub.MODEL_REGISTRY))
def model_type(request):
    return request.param
