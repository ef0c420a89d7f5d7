"""CU-net: a U-Net whose innermost down/up steps are dilated convolutions at constant resolution."""

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from .configuration_cunet import ColorizerCunetConfig
from .layers import AbHead, ConvNormAct, DownPath, UpPath, init_conv_weights, pad_to_multiple
from .modeling_outputs import ColorizationOutput


class ColorizerCunetPreTrainedModel(PreTrainedModel):
    config: ColorizerCunetConfig
    config_class = ColorizerCunetConfig
    base_model_prefix = "cunet"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_conv_weights(module)


class ColorizerCunetForColorization(ColorizerCunetPreTrainedModel):
    """
    ```
    L (1, H, W) -> 32 @ H ---------------------------------------------------> cat -> 32 @ H -> 1x1, tanh -> ab
                    └> 64 @ H/2 ------------------------------------> cat -> 64 @ H/2 ┘
                        └> 128 @ H/4 ----------------------> cat -> dil 2 ┘        (all of the core at H/4)
                            └> dil 2 ----------> cat -> dil 4 ┘
                                 └> dil 4 -> dil 4 ┘
    ```
    """

    def __init__(self, config: ColorizerCunetConfig):
        super().__init__(config)
        sizes, core = config.hidden_sizes, config.hidden_sizes[-1]
        self.encoder = DownPath(sizes)
        self.core_down = nn.ModuleList(ConvNormAct(core, core, dilation=d) for d in config.dilations)
        self.core_up = nn.ModuleList(
            ConvNormAct(core if index == 0 else 2 * core, core, dilation=d)
            for index, d in enumerate(reversed(config.dilations))
        )
        self.core_merge = ConvNormAct(2 * core, core)
        self.decoder = UpPath(sizes)
        self.head = AbHead(sizes[0])
        self.stride = 2 ** (len(sizes) - 1)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        *skips, hidden = self.encoder(pad_to_multiple(pixel_values, self.stride))
        core_skips = [hidden]
        for layer in self.core_down:
            hidden = layer(hidden)
            core_skips.append(hidden)
        core_skips.pop()  # the deepest output feeds core_up directly
        for index, layer in enumerate(self.core_up):
            # (B, C, h, w) ++ (B, C, h, w) -> (B, 2C, h, w): a skip at constant resolution
            hidden = layer(hidden if index == 0 else torch.cat([hidden, core_skips.pop()], dim=1))
        hidden = self.core_merge(torch.cat([hidden, core_skips.pop()], dim=1))
        hidden = self.decoder(hidden, skips)
        # (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = self.head(hidden)[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)
