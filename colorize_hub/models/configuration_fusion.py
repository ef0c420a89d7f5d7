"""Configuration of the fusion colorizer (Deep Koalarization)."""

from transformers import PreTrainedConfig

from .palette_head import PaletteConfigMixin, head_settings


def dropout_rate(value: float, name: str) -> float:
    """`value` if it is a dropout probability in [0, 1), else a ValueError naming the setting."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), not {value!r}")
    return value


class ColorizerFusionConfig(PaletteConfigMixin, PreTrainedConfig):
    r"""
    Architecture of [`ColorizerFusionForColorization`], after Deep Koalarization (Baldassarre et al., 2017):
    a conv encoder-decoder whose bottleneck is fused with the global embedding of an ImageNet classifier
    run on the same gray image, so scene-level knowledge ("this is a beach") can steer the colours.

    Args:
        backbone (`str`, *optional*, defaults to `"tf_efficientnet_lite0"`):
            Any timm model with global pooling. EfficientNet-Lite0 (4.7M parameters, 1280-d embedding) is
            the default because its ImageNet weights are available offline; the paper used
            `inception_resnet_v2`. The model is built without weights: load them in training code with
            `colorize_hub.load_backbone_imagenet_weights` (a trained checkpoint carries them already).
        backbone_image_size (`int`, *optional*):
            Side of the square image the backbone sees; defaults to the timm model's pretraining size.
        backbone_mean (`list[float]`, *optional*), backbone_std (`list[float]`, *optional*):
            Input normalisation of the backbone; default to the timm model's pretraining values.
        encoder_hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128, 256]`):
            Channels of the encoder stages (a full-resolution stem, then stride 2 each: 1/8 at the bottleneck).
        fusion_size (`int`, *optional*, defaults to 256):
            Channels after the 1x1 fusion conv that mixes encoder features with the tiled embedding.
        head (`str`, *optional*, defaults to `"regression"`):
            `"regression"`: a 1x1 conv + tanh regresses ab (L1 loss), as in the paper. `"palette"`: a 1x1 conv
            classifies every pixel into the palette's colours (rebalanced cross-entropy) and the annealed mean
            decodes them, as the U-Net-24 does; it does not average plausible colours into brown.
        palette (`list[list[float]]`, *optional*), class_weights (`list[float]`, *optional*),
        annealed_temperature (`float`, *optional*, defaults to 0.38):
            With `head="palette"`: as in [`ColorizerUnet24Config`]. Unused (None) with `head="regression"`.
        embedding_dropout (`float`, *optional*, defaults to 0.0):
            Dropout on the embedding during training. Trained on a few hundred photos, the fusion conv learns
            to recognise each training photo by its embedding and recall its colours (train loss falls far
            below dev loss, and a dev photo scores better with the mean embedding than with its own); dropout
            acts like a ridge penalty on the embedding's weights, so only directions that many photos share
            (scene type, not photo identity) steer the colours. No effect at inference.
        backbone_feature_stage (`int`, *optional*):
            Also fuse one of the backbone's spatial feature maps (an index into timm's `feature_info`; 3 is
            EfficientNet-Lite0's 112-channel map at 1/16 of its input): resized to the bottleneck, it adds a
            pretrained "what is here" to every position, which an encoder trained on a few hundred photos cannot
            learn. Its 1x1 conv starts at zero, so a checkpoint trained without it starts out unchanged. Default:
            the embedding only, as in the paper.
        backbone_feature_dropout (`float`, *optional*, defaults to 0.0):
            Dropout on that feature map during training (as `embedding_dropout` is for the embedding).

    Example:

    ```python
    >>> from colorize_hub import ColorizerFusionConfig, ColorizerFusionForColorization

    >>> model = ColorizerFusionForColorization(ColorizerFusionConfig())
    >>> model.config.backbone_image_size
    224
    ```
    """

    model_type = "colorizer-fusion"

    def __init__(
        self,
        backbone="tf_efficientnet_lite0",
        backbone_image_size=None,
        backbone_mean=None,
        backbone_std=None,
        encoder_hidden_sizes=None,
        fusion_size=256,
        head="regression",
        palette=None,
        class_weights=None,
        annealed_temperature=None,
        embedding_dropout=0.0,
        backbone_feature_stage=None,
        backbone_feature_dropout=0.0,
        **kwargs,
    ):
        self.backbone = backbone
        self.backbone_image_size = backbone_image_size
        self.backbone_mean = backbone_mean
        self.backbone_std = backbone_std
        self.encoder_hidden_sizes = list(encoder_hidden_sizes or [32, 64, 128, 256])
        self.fusion_size = fusion_size
        self.embedding_dropout = dropout_rate(embedding_dropout, "embedding_dropout")
        if backbone_feature_stage is not None and (isinstance(backbone_feature_stage, bool)
                                                   or not isinstance(backbone_feature_stage, int)
                                                   or backbone_feature_stage < 0):
            raise ValueError(f"backbone_feature_stage must be None or an index >= 0, not {backbone_feature_stage!r}")
        self.backbone_feature_stage = backbone_feature_stage
        self.backbone_feature_dropout = dropout_rate(backbone_feature_dropout, "backbone_feature_dropout")
        self.head = head
        self.palette, self.class_weights, self.annealed_temperature = head_settings(
            head, palette, class_weights, annealed_temperature)
        super().__init__(**kwargs)
