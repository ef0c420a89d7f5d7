"""Configuration of the 24-colour classification U-Net."""

from transformers import PreTrainedConfig

# 24 k-means centres of ab (normalised: ab / 110) over 881 photos of ImageNet and BSDS500
# (`colorize_hub.palette.compute_palette`, seed 0), ordered by chroma. A checkpoint trained on
# other data ships its own palette in its config.json.
DEFAULT_PALETTE = [
    [-0.002, 0.001], [0.045, 0.044], [-0.018, 0.063], [0.012, -0.075], [-0.083, -0.029], [0.041, 0.127],
    [-0.122, 0.089], [-0.039, 0.149], [-0.042, -0.173], [0.169, 0.085], [0.096, 0.21], [-0.016, 0.242],
    [-0.14, 0.203], [0.032, -0.28], [0.222, 0.258], [0.068, 0.351], [-0.128, 0.334], [-0.25, 0.264],
    [0.405, 0.172], [0.256, 0.436], [0.171, -0.478], [-0.288, 0.443], [0.026, 0.593], [0.504, 0.378],
]


class ColorizerUnet24Config(PreTrainedConfig):
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

    def __init__(self, hidden_sizes=None, palette=None, class_weights=None, annealed_temperature=0.38, **kwargs):
        self.hidden_sizes = list(hidden_sizes) if hidden_sizes is not None else [32, 64, 128, 256, 256]
        self.palette = [list(map(float, centre)) for centre in (palette or DEFAULT_PALETTE)]
        self.class_weights = list(map(float, class_weights)) if class_weights else [1.0] * len(self.palette)
        if len(self.class_weights) != len(self.palette):
            raise ValueError(f"class_weights has {len(self.class_weights)} entries for {len(self.palette)} colours")
        self.annealed_temperature = annealed_temperature
        super().__init__(**kwargs)

    @property
    def num_colors(self) -> int:
        return len(self.palette)
