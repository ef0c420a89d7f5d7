"""colorize_hub: image colorization models packaged the Hugging Face way.

Importing the package registers every architecture with AutoConfig/AutoModel, the image processor with
AutoImageProcessor, and the "image-colorization" pipeline task.
"""

from transformers import AutoImageProcessor

from .backbones import load_backbone_imagenet_weights
from .errors import ColorizationError
from .image_processing_colorization import ColorizationImageProcessor
from .loading import bundled_checkpoints, load_colorizer
from .models import (
    MODEL_REGISTRY,
    ColorizationOutput,
    ColorizerBaselineConfig,
    ColorizerBaselineForColorization,
    ColorizerCunetConfig,
    ColorizerCunetForColorization,
    ColorizerFusionConfig,
    ColorizerFusionForColorization,
    ColorizerGanConfig,
    ColorizerGanDiscriminator,
    ColorizerGanForColorization,
    ColorizerUnet24Config,
    ColorizerUnet24ForColorization,
    register_auto_classes,
)
from .pipeline import ColorizationPipeline, colorize, register_pipeline

register_auto_classes()
for _config_class, _ in MODEL_REGISTRY.values():
    AutoImageProcessor.register(
        _config_class, image_processor_classes={"torchvision": ColorizationImageProcessor}, exist_ok=True
    )
register_pipeline()

__version__ = "0.1.0"

__all__ = [
    "MODEL_REGISTRY",
    "ColorizationError",
    "ColorizationImageProcessor",
    "ColorizationOutput",
    "ColorizationPipeline",
    "ColorizerBaselineConfig",
    "ColorizerBaselineForColorization",
    "ColorizerCunetConfig",
    "ColorizerCunetForColorization",
    "ColorizerFusionConfig",
    "ColorizerFusionForColorization",
    "ColorizerGanConfig",
    "ColorizerGanDiscriminator",
    "ColorizerGanForColorization",
    "ColorizerUnet24Config",
    "ColorizerUnet24ForColorization",
    "bundled_checkpoints",
    "colorize",
    "load_backbone_imagenet_weights",
    "load_colorizer",
]
