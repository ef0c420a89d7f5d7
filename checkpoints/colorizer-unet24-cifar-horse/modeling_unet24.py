"""24-colour U-Net: per-pixel classification over a k-means ab palette, decoded by the annealed mean."""

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from .configuration_unet24 import ColorizerUnet24Config
from .layers import DownPath, UpPath, init_conv_weights, pad_to_multiple
from .modeling_outputs import ColorizationOutput


class ColorizerUnet24PreTrainedModel(PreTrainedModel):
    config: ColorizerUnet24Config
    config_class = ColorizerUnet24Config
    base_model_prefix = "unet24"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_conv_weights(module)
        if isinstance(module, ColorizerUnet24ForColorization):
            # persistent buffers, refilled here so a model built on the meta device gets them too
            module.palette.copy_(torch.tensor(self.config.palette))
            module.class_weights.copy_(torch.tensor(self.config.class_weights))


class ColorizerUnet24ForColorization(ColorizerUnet24PreTrainedModel):
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
        self.classifier = nn.Conv2d(sizes[0], config.num_colors, kernel_size=1)
        self.register_buffer("palette", torch.tensor(config.palette))  # (Q, 2) normalised ab
        self.register_buffer("class_weights", torch.tensor(config.class_weights))  # (Q,)
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
            loss = F.cross_entropy(logits.float(), self.nearest_color(labels), weight=self.class_weights)
        return ColorizationOutput(loss=loss, predicted_ab=self.decode(logits), logits=logits)

    def nearest_color(self, ab: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) normalised ab -> (B, H, W) index of the closest palette colour."""
        # (B, 2, H, W) -> (B, H, W, 1, 2) - (Q, 2) -> (B, H, W, Q)
        distances = (ab.float().permute(0, 2, 3, 1).unsqueeze(-2) - self.palette).square().sum(-1)
        return distances.argmin(-1)

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Annealed mean: (B, Q, H, W) logits -> (B, 2, H, W) normalised ab."""
        probabilities = torch.softmax(logits.float() / self.config.annealed_temperature, dim=1)
        # sum_q p(q) * palette[q]: (B, Q, H, W) x (Q, 2) -> (B, 2, H, W)
        return torch.einsum("bqhw,qc->bchw", probabilities, self.palette).to(logits.dtype)
