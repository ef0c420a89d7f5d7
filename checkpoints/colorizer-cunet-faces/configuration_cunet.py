"""Configuration of the CU-net (U-Net with a dilated-convolution core)."""

from transformers import PreTrainedConfig


class ColorizerCunetConfig(PreTrainedConfig):
    r"""
    Architecture of [`ColorizerCunetForColorization`]: a U-Net whose two innermost down steps and their two
    up steps are replaced by dilated convolutions at constant resolution. The receptive field still grows
    as in a deeper U-Net, but the innermost features keep 1/4 of the input resolution instead of 1/16,
    so object boundaries in the chroma stay sharp.

    Args:
        hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128]`):
            Channels of the full-resolution stem and of each stride-2 level; the dilated core works at the
            last size and at 1/2**(len - 1) of the input resolution.
        dilations (`list[int]`, *optional*, defaults to `[2, 4]`):
            Dilation of each replaced down step (the replaced up steps use the same rates in reverse, each
            concatenating the output of its down twin, as a skip connection would).

    Example:

    ```python
    >>> from colorize_hub import ColorizerCunetConfig, ColorizerCunetForColorization

    >>> model = ColorizerCunetForColorization(ColorizerCunetConfig(hidden_sizes=[16, 32]))
    ```
    """

    model_type = "colorizer-cunet"

    def __init__(self, hidden_sizes=None, dilations=None, **kwargs):
        self.hidden_sizes = list(hidden_sizes) if hidden_sizes is not None else [32, 64, 128]
        self.dilations = list(dilations) if dilations is not None else [2, 4]
        super().__init__(**kwargs)
