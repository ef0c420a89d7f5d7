"""pix2pix-style conditional GAN: a U-Net generator (inference) and a conditional discriminator (training)."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_gan import ColorizerGanConfig
from .layers import ConvNormAct, DeconvNormAct, init_conv_weights, pad_to_multiple
from .modeling_outputs import ColorizationOutput


@dataclass
class ColorizerGanDiscriminatorOutput(ModelOutput):
    """logits: (B, 1) real-vs-fake score before the sigmoid; probabilities: sigmoid(logits)."""

    logits: torch.FloatTensor | None = None
    probabilities: torch.FloatTensor | None = None


def strided_blocks(in_channels: int, sizes: list[int]) -> nn.ModuleList:
    """pix2pix down blocks: 4x4 conv stride 2, BatchNorm (not on the first), LeakyReLU 0.2."""
    return nn.ModuleList(
        ConvNormAct(i, o, kernel_size=4, stride=2, activation="leaky_relu", norm=index > 0)
        for index, (i, o) in enumerate(zip([in_channels] + sizes[:-1], sizes))
    )


class ColorizerGanPreTrainedModel(PreTrainedModel):
    config: ColorizerGanConfig
    config_class = ColorizerGanConfig
    base_model_prefix = "gan"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_conv_weights(module)
        final = getattr(self, "up_final", None)
        if final is not None and module is final[0]:
            init.normal_(module.weight, std=1e-3)  # start at ab ~ 0 (gray), not at a saturated tanh


class ColorizerGanForColorization(ColorizerGanPreTrainedModel):
    """The generator. Its own loss is the L1 term; `GanTrainer` adds the adversarial term.

    ```
    L (1, H, W) -> d0 32 @ H/2 ------------------------------------------------> cat -> up0: deconv, tanh -> ab @ H
                     └> d1 64 @ H/4 -------------------------------> cat -> up1 32 ┘
                         └> d2 128 @ H/8 ------------------> cat -> up2 64 ┘
                             └> d3 256 @ H/16 -----> cat -> up3 128 ┘
                                 └> d4 256 @ H/32 -> up4 256 ┘
    down: 4x4 conv stride 2, BatchNorm (not d0), LeakyReLU 0.2; up: 4x4 transposed conv, BatchNorm, ReLU
    ```
    """

    def __init__(self, config: ColorizerGanConfig):
        super().__init__(config)
        sizes = config.generator_hidden_sizes
        self.down = strided_blocks(1, sizes)
        # up blocks from the innermost: input = previous up output ++ the skip at that resolution
        up_in = [sizes[-1]] + [2 * s for s in sizes[-2::-1]]
        up_out = sizes[-2::-1]
        self.up = nn.ModuleList(
            DeconvNormAct(i, o, dropout=config.generator_dropout if index < 2 else 0.0)
            for index, (i, o) in enumerate(zip(up_in[:-1], up_out))
        )
        self.up_final = DeconvNormAct(up_in[-1], 2, activation=None, norm=False)
        self.stride = 2 ** len(sizes)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        hidden, skips = pad_to_multiple(pixel_values, self.stride), []
        for block in self.down:
            hidden = block(hidden)
            skips.append(hidden)
        skips.pop()
        for block in self.up:
            # (B, C, h, w) -> (B, C', 2h, 2w) ++ skip (B, C_skip, 2h, 2w)
            hidden = torch.cat([block(hidden), skips.pop()], dim=1)
        # (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = torch.tanh(self.up_final(hidden))[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)


class ColorizerGanDiscriminator(ColorizerGanPreTrainedModel):
    """Conditional discriminator: is this ab plausible for this L? 6 conv blocks -> pool -> FC -> sigmoid."""

    def __init__(self, config: ColorizerGanConfig):
        super().__init__(config)
        sizes = config.discriminator_hidden_sizes
        self.blocks = nn.Sequential(*strided_blocks(3, sizes))
        self.classifier = nn.Linear(sizes[-1], 1)
        self.stride = 2 ** len(sizes)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, ab: torch.Tensor) -> ColorizerGanDiscriminatorOutput:
        # L (B, 1, H, W) ++ ab (B, 2, H, W) -> (B, 3, H, W) -> (B, C, H/64, W/64) -> pooled (B, C)
        features = self.blocks(pad_to_multiple(torch.cat([pixel_values, ab], dim=1), self.stride))
        logits = self.classifier(features.mean(dim=(2, 3)))
        return ColorizerGanDiscriminatorOutput(logits=logits, probabilities=torch.sigmoid(logits))
