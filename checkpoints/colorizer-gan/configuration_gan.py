"""Configuration of the pix2pix-style conditional GAN colorizer."""

from transformers import PreTrainedConfig


class ColorizerGanConfig(PreTrainedConfig):
    r"""
    Architecture of [`ColorizerGanForColorization`] (the generator, all that inference needs) and of
    [`ColorizerGanDiscriminator`] (used in training only), after pix2pix (Isola et al., CVPR 2017).

    Args:
        generator_hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128, 256, 256]`):
            Channels of the 5 down blocks (4x4 conv, stride 2); the 5 transposed-conv up blocks mirror them
            with skip connections. Half the width of pix2pix's first levels keeps it CPU-trainable.
        discriminator_hidden_sizes (`list[int]`, *optional*, defaults to `[32, 64, 128, 256, 256, 256]`):
            Channels of the discriminator's 6 conv blocks (4x4 conv, stride 2), followed by global average
            pooling, one fully connected layer and a sigmoid.
        generator_dropout (`float`, *optional*, defaults to 0.0):
            Dropout in the two innermost up blocks during training. pix2pix used 0.5 as its noise source;
            off by default because the L1 term dominates at this model size.

    Example:

    ```python
    >>> from colorize_hub import ColorizerGanConfig, ColorizerGanDiscriminator, ColorizerGanForColorization

    >>> config = ColorizerGanConfig()
    >>> generator, discriminator = ColorizerGanForColorization(config), ColorizerGanDiscriminator(config)
    ```
    """

    model_type = "colorizer-gan"

    def __init__(self, generator_hidden_sizes=None, discriminator_hidden_sizes=None, generator_dropout=0.0, **kwargs):
        self.generator_hidden_sizes = list(generator_hidden_sizes or [32, 64, 128, 256, 256])
        self.discriminator_hidden_sizes = list(discriminator_hidden_sizes or [32, 64, 128, 256, 256, 256])
        self.generator_dropout = generator_dropout
        super().__init__(**kwargs)
