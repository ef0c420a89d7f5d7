"""Configuration of the 24-colour classification U-Net."""

from transformers import PreTrainedConfig

# 24 k-means centres of ab (normalised: ab / 110) over 881 photos of ImageNet and BSDS500
# (`colorize_hub.palette.compute_palette("train/general")`, seed 0), ordered by chroma. A checkpoint trained on
# other data ships its own palette in its config.json.
DEFAULT_PALETTE = [
    [0.0007, -0.0038], [-0.0087, 0.0431], [-0.0034, -0.0795], [0.0426, 0.0808], [-0.092, -0.0045], [0.0937, -0.0248],
    [-0.0392, 0.112], [0.0311, 0.1569], [-0.0465, -0.1753], [-0.1355, 0.1315], [0.1558, 0.1169], [-0.0474, 0.2258],
    [0.0892, 0.2286], [0.0292, -0.2783], [-0.2211, 0.2441], [0.2215, 0.2655], [0.054, 0.3483], [-0.1299, 0.3285],
    [0.3968, 0.1641], [0.1663, -0.4744], [0.2487, 0.437], [-0.2864, 0.4291], [0.026, 0.5889], [0.4958, 0.3693],
]


def palette_settings(palette, class_weights) -> tuple[list[list[float]], list[float]]:
    """Validated (palette, class_weights) of a colour-classifying model; `DEFAULT_PALETTE`, unit weights by default."""
    palette = [list(map(float, centre)) for centre in (palette or DEFAULT_PALETTE)]
    class_weights = list(map(float, class_weights)) if class_weights else [1.0] * len(palette)
    if len(class_weights) != len(palette):
        raise ValueError(f"class_weights has {len(class_weights)} entries for {len(palette)} colours")
    return palette, class_weights


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
        self.palette, self.class_weights = palette_settings(palette, class_weights)
        self.annealed_temperature = annealed_temperature
        super().__init__(**kwargs)

    @property
    def num_colors(self) -> int:
        return len(self.palette)
