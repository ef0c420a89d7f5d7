"""24-colour U-Net: per-pixel classification over a k-means ab palette, decoded by the annealed mean."""

import torch
from transformers import PreTrainedModel

from .configuration_unet24 import ColorizerUnet24Config
from .layers import DownPath, UpPath, init_conv_weights, pad_to_multiple
from .modeling_outputs import ColorizationOutput
from .palette_head import PaletteHeadMixin


class ColorizerUnet24PreTrainedModel(PreTrainedModel):
    config: ColorizerUnet24Config
    config_class = ColorizerUnet24Config
    base_model_prefix = "unet24"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_conv_weights(module)
        if module is self:
            self.fill_palette_buffers()


class ColorizerUnet24ForColorization(PaletteHeadMixin, ColorizerUnet24PreTrainedModel):
    """
    ```
    L (1, H, W) -> 32 @ H ----------------------------------------------> cat -> 32 @ H -> 1x1 -> 24 logits
                    └> 64 @ H/2 ----------------------------> cat -> 64 @ H/2 ┘
                        └> 128 @ H/4 --------------> cat -> 128 @ H/4 ┘
                            └> 256 @ H/8 -> cat -> 256 @ H/8 ┘
                                └> 256 @ H/16 ┘   (down: stride-2 conv; up: transposed conv)
    logits -> softmax(logits / T) -> expectation over the palette -> ab (2, H, W)
    ```
    """

    def __init__(self, config: ColorizerUnet24Config):
        super().__init__(config)
        sizes = config.hidden_sizes
        self.encoder = DownPath(sizes)
        self.decoder = UpPath(sizes)
        self.init_palette_head(sizes[0])
        self.stride = 2 ** (len(sizes) - 1)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        *skips, hidden = self.encoder(pad_to_multiple(pixel_values, self.stride))
        hidden = self.decoder(hidden, skips)
        # (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
        logits = self.classifier(hidden)[..., :height, :width]
        loss = None
        if labels is not None:
            loss = self.palette_loss(logits, labels)
        return ColorizationOutput(loss=loss, predicted_ab=self.decode(logits), logits=logits)
