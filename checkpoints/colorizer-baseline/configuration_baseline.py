"""Configuration of the baseline regression colorizer."""

from transformers import PreTrainedConfig


class ColorizerBaselineConfig(PreTrainedConfig):
    r"""
    Architecture of [`ColorizerBaselineForColorization`]: a plain convolutional encoder-decoder (no skip
    connections) that regresses the ab channels from L. It is the reference every other model must beat.

    Args:
        hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128, 256]`):
            Channels of each encoder stage. Every stage after the first halves the resolution, so the
            bottleneck sees 1/8 of the input at the default — enough context for a 256 px render while the
            whole network stays near 1.5M parameters, trainable on a CPU.
        convs_per_stage (`int`, *optional*, defaults to 2):
            3x3 convolutions in each encoder stage (the first of them strided, except in stage one).

    Example:

    ```python
    >>> from colorize_hub import ColorizerBaselineConfig, ColorizerBaselineForColorization

    >>> config = ColorizerBaselineConfig(hidden_sizes=[16, 32])
    >>> model = ColorizerBaselineForColorization(config)
    ```
    """

    model_type = "colorizer-baseline"

    def __init__(self, hidden_sizes=None, convs_per_stage=2, **kwargs):
        self.hidden_sizes = list(hidden_sizes) if hidden_sizes is not None else [32, 64, 128, 256]
        self.convs_per_stage = convs_per_stage
        super().__init__(**kwargs)
