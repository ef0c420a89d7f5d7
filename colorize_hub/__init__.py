"""colorize_hub: image colorization models packaged the Hugging Face way.

Importing the package registers every architecture (models/: one record each) with AutoConfig, AutoModel and
AutoImageProcessor, and the "image-colorization" pipeline task (registration.py: as soon as transformers is
imported). The public names below load on first use, so `import colorize_hub` itself, and the command line's help
and lists, load no torch.
"""

import importlib

from .checkpoints import DEFAULT_MODEL, bundled_checkpoints
from .errors import ColorizationError
from .registration import register_when_transformers_is_imported, register_with_transformers

__version__ = "0.1.0"

# public name -> the module that defines it (imported, with torch, when the name is first used)
_LAZY_NAMES = {
    "ColorizationImageProcessor": ".image_processing_colorization",
    "load_colorizer": ".loading",
    "ColorizationPipeline": ".pipeline",
    "colorize": ".pipeline",
    "suggest_colours": ".suggestions",
    "Suggestion": ".suggestions",
    **{name: ".models" for name in (
        "MODEL_REGISTRY",
        "Architecture",
        "ColorizationOutput",
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
        "load_backbone_imagenet_weights",
        "register_architecture",
    )},
}


def __getattr__(name: str):
    """Load a public name on first use (module-level __getattr__, PEP 562), then keep it as a plain attribute."""
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    register_with_transformers()  # the name's module has loaded transformers: make it know ours
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})


__all__ = sorted(["DEFAULT_MODEL", "ColorizationError", "bundled_checkpoints", *_LAZY_NAMES])

register_when_transformers_is_imported()
