"""colorize_hub: image colorization models packaged the Hugging Face way.

Importing the package registers every architecture (models/: one record each) with AutoConfig, AutoModel and
AutoImageProcessor, and the "image-colorization" pipeline task.
"""

from .errors import ColorizationError
from .image_processing_colorization import ColorizationImageProcessor
from .checkpoints import bundled_checkpoints
from .loading import load_colorizer
from .models import (
    MODEL_REGISTRY,
    Architecture,
    ColorizationOutput,
    ColorizerBaselineConfig,
    ColorizerBaselineForColorization,
    ColorizerCunetConfig,
    ColorizerCunetForColorization,
    ColorizerFusionConfig,
    ColorizerFusionForColorization,
    ColorizerEncoderUnetConfig,
    ColorizerEncoderUnetForColorization,
    ColorizerGanConfig,
    ColorizerGanDiscriminator,
    ColorizerGanForColorization,
    ColorizerUnet24Config,
    ColorizerUnet24ForColorization,
    load_backbone_imagenet_weights,
    register_architecture,
)
from .pipeline import ColorizationPipeline, colorize, register_pipeline

register_pipeline()

__version__ = "0.1.0"

__all__ = [
    "MODEL_REGISTRY",
    "Architecture",
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
    "ColorizerEncoderUnetConfig",
    "ColorizerEncoderUnetForColorization",
    "ColorizerGanConfig",
    "ColorizerGanDiscriminator",
    "ColorizerGanForColorization",
    "ColorizerUnet24Config",
    "ColorizerUnet24ForColorization",
    "bundled_checkpoints",
    "colorize",
    "load_backbone_imagenet_weights",
    "load_colorizer",
    "register_architecture",
]
