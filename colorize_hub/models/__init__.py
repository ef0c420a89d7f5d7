"""The registry of architectures: model_type -> (config class, model class), as in timm's registry."""

from transformers import AutoConfig, AutoModel

from .configuration_baseline import ColorizerBaselineConfig
from .configuration_cunet import ColorizerCunetConfig
from .configuration_fusion import ColorizerFusionConfig
from .configuration_gan import ColorizerGanConfig
from .configuration_unet24 import ColorizerUnet24Config
from .modeling_baseline import ColorizerBaselineForColorization
from .modeling_cunet import ColorizerCunetForColorization
from .modeling_fusion import ColorizerFusionForColorization
from .modeling_gan import ColorizerGanDiscriminator, ColorizerGanForColorization
from .modeling_outputs import ColorizationOutput
from .modeling_unet24 import ColorizerUnet24ForColorization

MODEL_REGISTRY = {
    config_class.model_type: (config_class, model_class)
    for config_class, model_class in [
        (ColorizerBaselineConfig, ColorizerBaselineForColorization),
        (ColorizerUnet24Config, ColorizerUnet24ForColorization),
        (ColorizerCunetConfig, ColorizerCunetForColorization),
        (ColorizerGanConfig, ColorizerGanForColorization),
        (ColorizerFusionConfig, ColorizerFusionForColorization),
    ]
}


def register_auto_classes() -> None:
    """Make AutoConfig/AutoModel know every architecture, and make `save_pretrained` ship the source code
    (config.json gets an `auto_map`), so a saved folder loads with `trust_remote_code=True` anywhere."""
    for model_type, (config_class, model_class) in MODEL_REGISTRY.items():
        AutoConfig.register(model_type, config_class, exist_ok=True)
        AutoModel.register(config_class, model_class, exist_ok=True)
        config_class.register_for_auto_class()
        model_class.register_for_auto_class("AutoModel")


__all__ = [
    "MODEL_REGISTRY",
    "register_auto_classes",
    "ColorizationOutput",
    "ColorizerBaselineConfig",
    "ColorizerBaselineForColorization",
    "ColorizerUnet24Config",
    "ColorizerUnet24ForColorization",
    "ColorizerCunetConfig",
    "ColorizerCunetForColorization",
    "ColorizerGanConfig",
    "ColorizerGanForColorization",
    "ColorizerGanDiscriminator",
    "ColorizerFusionConfig",
    "ColorizerFusionForColorization",
]
