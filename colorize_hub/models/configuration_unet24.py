"""Configuration of the 24-colour classification U-Net."""

from transformers import PreTrainedConfig

from .palette_head import DEFAULT_TEMPERATURE, PaletteConfigMixin, palette_settings

class ColorizerUnet24Config(PaletteConfigMixin, PreTrainedConfig):
    r"""
    Architecture of [`ColorizerUnet24ForColorization`]: a U-Net (strided convolutions down, transposed
    convolutions up, skip connections) that classifies every pixel into one of `len(palette)` colours.
    Classification instead of regression avoids the desaturated "average" colour that an L1/L2 loss
    converges to when several colours are plausible (Zhang et al., ECCV 2016).

    Args:
        hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128, 256, 256]`):
            Channels per U-Net level; each level after the first halves the resolution (1/16 at the
            bottom, which gives a 256 px render a receptive field covering most of the image).
        palette (`list[list[float]]`, *optional*, defaults to `DEFAULT_PALETTE`):
            The class centres in normalised ab units (ab / 110): k-means centres of training-data chroma.
            Stored here so it ships with the checkpoint.
        class_weights (`list[float]`, *optional*):
            Per-class weights of the cross-entropy (class rebalancing: rare saturated colours weigh more,
            w ∝ 1 / ((1 - λ) p + λ / Q), normalised so E_p[w] = 1). Defaults to all ones.
        annealed_temperature (`float`, *optional*, defaults to 0.38):
            Temperature of the annealed-mean decoding: 1 gives the (brownish) mean of the distribution,
            towards 0 its mode (vivid but patchy); 0.38 is the compromise of Zhang et al.

    Example:

    ```python
    >>> from colorize_hub import ColorizerUnet24Config, ColorizerUnet24ForColorization

    >>> config = ColorizerUnet24Config(hidden_sizes=[16, 32])
    >>> model = ColorizerUnet24ForColorization(config)
    >>> model.config.num_colors
    24
    ```
    """

    model_type = "colorizer-unet24"

    def __init__(self, hidden_sizes=None, palette=None, class_weights=None, annealed_temperature=DEFAULT_TEMPERATURE, **kwargs):
        self.hidden_sizes = list(hidden_sizes) if hidden_sizes is not None else [32, 64, 128, 256, 256]
        self.palette, self.class_weights = palette_settings(palette, class_weights)
        self.annealed_temperature = annealed_temperature
        super().__init__(**kwargs)
