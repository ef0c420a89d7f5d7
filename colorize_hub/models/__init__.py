"""The registry of architectures: one `Architecture` record per model_type, as in timm's registry.

Everything the rest of the package may know about an architecture is on its record or is a method or capability
of the model itself (`classifies_colours`, `decode`, `nearest_color` for the palette head). Adding an
architecture is a configuration file, a modeling file and one `register_architecture` call.

Owns: the model code. Imports nothing from the package outside `models/` except the image processor (registered
with each architecture); training-only hooks are imported lazily, when training asks for them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from transformers import AutoConfig, AutoImageProcessor, AutoModel, PreTrainedConfig, PreTrainedModel

from .backbones import (freeze_encoder_unet_encoder, freeze_fusion_backbone, load_backbone_imagenet_weights,
                        load_encoder_unet_weights, load_fusion_backbone_weights)
from .configuration_baseline import ColorizerBaselineConfig
from .configuration_cunet import ColorizerCunetConfig
from .configuration_encoder_unet import ColorizerEncoderUnetConfig
from .configuration_fusion import ColorizerFusionConfig
from .configuration_gan import ColorizerGanConfig
from .configuration_unet24 import ColorizerUnet24Config
from .modeling_baseline import ColorizerBaselineForColorization
from .modeling_cunet import ColorizerCunetForColorization
from .modeling_encoder_unet import ColorizerEncoderUnetForColorization
from .modeling_fusion import ColorizerFusionForColorization
from .modeling_gan import ColorizerGanDiscriminator, ColorizerGanForColorization
from .modeling_outputs import ColorizationOutput
from .modeling_unet24 import ColorizerUnet24ForColorization


@dataclass(frozen=True)
class Architecture:
    """What the package knows about one architecture.

    Attributes:
        config_class, model_class: the `PreTrainedConfig` and `PreTrainedModel` (`<Model>ForColorization`).
        summary: a few words for model lists (`colorize-hub list`, the demo's fallback label).
        description: the model card's paragraph on the architecture.
        tiny_configs: name -> config overrides of the smallest working models, for tests and smoke runs; the
            first is the default, further ones cover config-selected variants (another head).
        describe_config: optional; config dict -> sentences the card adds for config-selected variants.
        trainer_class: optional; returns the `transformers.Trainer` subclass the model needs (imported only when
            training); it must offer `from_model_arguments(model_args, **trainer_kwargs)` and
            `save_extra_parts(folder)`. Default: the package's standard crash-safe Trainer.
        load_pretrained: optional; (fresh model, source: "auto" | "hub" | "package") -> the source used. Fills
            the parts that start from pretrained weights (an ImageNet backbone).
        freeze_pretrained: optional; keeps those parts fixed during training.
    """

    config_class: type[PreTrainedConfig]
    model_class: type[PreTrainedModel]
    summary: str
    description: str
    tiny_configs: dict[str, dict] = field(default_factory=dict)
    describe_config: Callable[[dict], str] | None = None
    trainer_class: Callable[[], type] | None = None
    load_pretrained: Callable[[PreTrainedModel, str], str] | None = None
    freeze_pretrained: Callable[[PreTrainedModel], None] | None = None

    @property
    def model_type(self) -> str:
        return self.config_class.model_type

    def card_description(self, config: dict) -> str:
        """The model card's paragraph for a checkpoint with this config.json."""
        extra = self.describe_config(config) if self.describe_config else ""
        return f"{self.description} {extra}".strip()


MODEL_REGISTRY: dict[str, Architecture] = {}


def register_architecture(architecture: Architecture) -> Architecture:
    """Add `architecture` to the registry and make AutoConfig, AutoModel and AutoImageProcessor know it;
    `save_pretrained` then ships its source code (config.json gets an `auto_map`), so a saved folder loads
    with `trust_remote_code=True` anywhere."""
    from ..image_processing_colorization import ColorizationImageProcessor

    config_class, model_class = architecture.config_class, architecture.model_class
    MODEL_REGISTRY[architecture.model_type] = architecture
    AutoConfig.register(architecture.model_type, config_class, exist_ok=True)
    AutoModel.register(config_class, model_class, exist_ok=True)
    AutoImageProcessor.register(config_class, image_processor_classes={"torchvision": ColorizationImageProcessor},
                                exist_ok=True)
    config_class.register_for_auto_class()
    model_class.register_for_auto_class("AutoModel")
    return architecture


def classifies_colours(model: PreTrainedModel) -> bool:
    """Whether `model` has a palette head (per-pixel colour classes, annealed-mean decoding)."""
    return bool(getattr(model, "classifies_colours", False))


def _gan_trainer():
    from ..training.gan_trainer import GanTrainer

    return GanTrainer


def _fusion_variants(config: dict) -> str:
    sentences = []
    if config.get("head") == "palette":
        sentences.append(
            f"Its head classifies every pixel into {len(config['palette'])} k-means colours (the palette ships in "
            "config.json), trained with class-rebalanced cross-entropy and decoded with the annealed mean, instead "
            "of regressing ab.")
    if config.get("backbone_feature_stage") is not None:
        sentences.append(
            f"The backbone's spatial feature map of stage {config['backbone_feature_stage']} is fused at the "
            "bottleneck too, so the classifier's knowledge of what is where reaches every position.")
    return " ".join(sentences)


def _encoder_unet_variants(config: dict) -> str:
    if config.get("head") == "palette":
        head = (f"Its head classifies every pixel into {len(config['palette'])} k-means colours (the palette ships "
                "in config.json), trained with class-rebalanced cross-entropy and decoded with the annealed mean.")
    else:
        head = "Its head regresses ab (L1 loss)."
    refine = config.get("decoder_refine_blocks") or []
    if any(refine):
        head += (f" Its decoder stages (deepest first) add {', '.join(map(str, refine))} residual refinement "
                 "blocks.")
    if config.get("hints"):
        head += (" It takes colour hints (Zhang et al. 2017): points whose colour the user chose reach every decoder "
                 "scale, and a second head scores "
                 f"{len(config.get('suggestion_palette') or [])} colours per pixel to suggest likely colours at a "
                 "clicked point.")
    return head


_TINY_ENCODER_UNET = dict(backbone="test_efficientnet", decoder_hidden_sizes=[16, 16, 8, 8])
_TINY_FUSION = dict(backbone="test_efficientnet", backbone_image_size=64, encoder_hidden_sizes=[8, 16], fusion_size=16)

for _architecture in (
    Architecture(
        ColorizerBaselineConfig, ColorizerBaselineForColorization, "plain conv encoder-decoder",
        "Baseline regression colorizer: a plain convolutional encoder-decoder (no skip connections) that predicts "
        "the ab channels of CIE Lab from L.",
        tiny_configs={"default": dict(hidden_sizes=[8, 16])},
    ),
    Architecture(
        ColorizerUnet24Config, ColorizerUnet24ForColorization, "U-Net choosing among 24 colours",
        "U-Net that classifies every pixel into one of 24 k-means colours (the palette ships in config.json), "
        "trained with class-rebalanced cross-entropy and decoded with the annealed mean (temperature in "
        "config.json; 0.38 in Zhang et al. 2016).",
        tiny_configs={"default": dict(hidden_sizes=[8, 16, 16])},
    ),
    Architecture(
        ColorizerCunetConfig, ColorizerCunetForColorization, "dilated U-Net",
        "CU-net: a U-Net whose two innermost down/up steps are dilated convolutions at 1/4 resolution, regressing "
        "ab.",
        tiny_configs={"default": dict(hidden_sizes=[8, 16], dilations=[2, 4])},
    ),
    Architecture(
        ColorizerGanConfig, ColorizerGanForColorization, "pix2pix GAN generator",
        "pix2pix-style conditional GAN generator (5 conv down + 5 transposed-conv up blocks with skips, tanh), "
        "trained against a discriminator (6 conv blocks + FC + sigmoid) with an adversarial + L1 loss.",
        tiny_configs={"default": dict(generator_hidden_sizes=[8, 8, 16, 16, 16], discriminator_hidden_sizes=[8] * 6)},
        trainer_class=_gan_trainer,
    ),
    Architecture(
        ColorizerFusionConfig, ColorizerFusionForColorization, "encoder-decoder fused with scene features",
        "Deep Koalarization fusion model: a conv encoder-decoder whose bottleneck is fused with the global "
        "embedding of an ImageNet-pretrained EfficientNet-Lite0 run on the same gray image.",
        tiny_configs={"default": _TINY_FUSION, "palette": dict(_TINY_FUSION, head="palette")},
        describe_config=_fusion_variants,
        load_pretrained=load_fusion_backbone_weights,
        freeze_pretrained=freeze_fusion_backbone,
    ),
    Architecture(
        ColorizerEncoderUnetConfig, ColorizerEncoderUnetForColorization, "U-Net over an ImageNet encoder",
        "Encoder U-Net: an ImageNet-pretrained EfficientNet-Lite is the encoder of a U-Net (features at 1/2 to 1/32 "
        "resolution), and a light decoder takes a skip connection from every scale, so what the classifier "
        "recognises where steers the colour at every pixel (the DeOldify / DDColor recipe at CPU size).",
        tiny_configs={"default": _TINY_ENCODER_UNET, "regression": dict(_TINY_ENCODER_UNET, head="regression"),
                      "hints": dict(_TINY_ENCODER_UNET, head="regression", hints=True),
                      "refine": dict(_TINY_ENCODER_UNET, head="regression", decoder_refine_blocks=[1, 0, 1, 0])},
        describe_config=_encoder_unet_variants,
        load_pretrained=load_encoder_unet_weights,
        freeze_pretrained=freeze_encoder_unet_encoder,
    ),
):
    register_architecture(_architecture)


__all__ = [
    "MODEL_REGISTRY",
    "Architecture",
    "register_architecture",
    "classifies_colours",
    "load_backbone_imagenet_weights",
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
    "ColorizerEncoderUnetConfig",
    "ColorizerEncoderUnetForColorization",
]
