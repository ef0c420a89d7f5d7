"""Baseline regression colorizer: L -> ab with a plain conv encoder-decoder and an L1 loss."""

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from .configuration_baseline import ColorizerBaselineConfig
from .layers import AbHead, DownPath, init_conv_weights, pad_to_multiple, upsample_stages
from .modeling_outputs import ColorizationOutput


class ColorizerBaselinePreTrainedModel(PreTrainedModel):
    config: ColorizerBaselineConfig
    config_class = ColorizerBaselineConfig
    base_model_prefix = "baseline"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_conv_weights(module)


class ColorizerBaselineForColorization(ColorizerBaselinePreTrainedModel):
    """
    ```
    L (1, H, W) -> stem 32 @ H -> 64 @ H/2 -> 128 @ H/4 -> 256 @ H/8      (no skip connections)
                -> up 128 @ H/4 -> up 64 @ H/2 -> up 32 @ H -> 1x1 conv, tanh -> ab (2, H, W)
    ```
    """

    def __init__(self, config: ColorizerBaselineConfig):
        super().__init__(config)
        self.encoder = DownPath(config.hidden_sizes, config.convs_per_stage)
        self.decoder = upsample_stages(config.hidden_sizes)
        self.head = AbHead(config.hidden_sizes[0])
        self.stride = 2 ** (len(config.hidden_sizes) - 1)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        hidden = self.encoder(pad_to_multiple(pixel_values, self.stride))[-1]
        # (B, C, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = self.head(self.decoder(hidden))[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)
