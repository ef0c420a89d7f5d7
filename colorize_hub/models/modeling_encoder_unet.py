"""Encoder U-Net colorizer: a light U-Net decoder over an ImageNet-pretrained timm encoder (features_only)."""

import timm
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from .configuration_encoder_unet import ColorizerEncoderUnetConfig
from .layers import AbHead, ConvNormAct, init_weights_keeping, pad_to_multiple
from .modeling_outputs import ColorizationOutput
from .palette_head import PaletteHeadMixin


class ColorizerEncoderUnetPreTrainedModel(PreTrainedModel):
    config: ColorizerEncoderUnetConfig
    config_class = ColorizerEncoderUnetConfig
    base_model_prefix = "encoder_unet"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_weights_keeping(self, module, self.encoder_modules)


class SkipStage(nn.Module):
    """Decoder step: bilinear x2 upsampling to the skip's size, concatenate the skip, 3x3 ConvNormAct."""

    def __init__(self, in_channels, skip_channels, out_channels):
        super().__init__()
        self.conv = ConvNormAct(in_channels + skip_channels, out_channels)

    def forward(self, hidden: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        # (B, C_in, h, w) -> (B, C_in, 2h, 2w) ++ skip (B, C_skip, 2h, 2w) -> (B, C_out, 2h, 2w)
        hidden = F.interpolate(hidden, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([hidden, skip.to(hidden.dtype)], dim=1))


class ColorizerEncoderUnetForColorization(PaletteHeadMixin, ColorizerEncoderUnetPreTrainedModel):
    """
    ```
    L (1, H, W) -> gray RGB -> encoder (EfficientNet-Lite0, ImageNet):
        16 @ H/2   24 @ H/4   40 @ H/8   112 @ H/16   320 @ H/32
          |          |          |           |            └> up, cat -> 256 @ H/16
          |          |          |           └─────────────────┘  up, cat -> 128 @ H/8
          |          |          └───────────────────────────────────┘  up, cat -> 64 @ H/4
          |          └──────────────────────────────────────────────────────┘  up, cat -> 32 @ H/2
          └──────────────────────────────────────────────────────────────────────────┘
    32 @ H/2 -> 1x1 conv -> logits over the palette (or tanh ab) -> bilinear x2 -> (H, W)
    ```
    The palette head decodes logits by the annealed mean; the regression head (`config.head="regression"`)
    regresses ab with an L1 loss. An encoder whose parameters are frozen (`requires_grad=False`) stays in eval
    mode, so training does not drift its BatchNorm statistics.
    """

    def __init__(self, config: ColorizerEncoderUnetConfig):
        super().__init__(config)
        self.encoder = timm.create_model(config.backbone, pretrained=False, features_only=True)
        pretrained_cfg = self.encoder.pretrained_cfg
        config.backbone_mean = list(config.backbone_mean or pretrained_cfg["mean"])
        config.backbone_std = list(config.backbone_std or pretrained_cfg["std"])
        self.encoder_modules = frozenset(self.encoder.modules())  # left alone by _init_weights
        channels = self.encoder.feature_info.channels()  # shallowest first
        sizes = config.decoder_hidden_sizes
        if len(sizes) != len(channels) - 1:
            raise ValueError(f"decoder_hidden_sizes needs {len(channels) - 1} entries (one per scale of "
                             f"{config.backbone} above its deepest), not {len(sizes)}")
        in_sizes = [channels[-1], *sizes[:-1]]
        skip_sizes = channels[-2::-1]  # deepest skip first
        self.decoder = nn.ModuleList(SkipStage(i, s, o) for i, s, o in zip(in_sizes, skip_sizes, sizes))
        if config.head == "palette":
            self.init_palette_head(sizes[-1])
        else:
            self.head = AbHead(sizes[-1])
        self.stride = self.encoder.feature_info.reduction()[-1]
        self.post_init()

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and not any(parameter.requires_grad for parameter in self.encoder.parameters()):
            self.encoder.eval()
        return self

    def encoder_input(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Normalised L [-1, 1] (B, 1, H, W) -> the gray image as the encoder was pretrained to see it (B, 3, H, W)."""
        gray = (pixel_values + 1) / 2
        mean = gray.new_tensor(self.config.backbone_mean).view(1, 3, 1, 1)
        std = gray.new_tensor(self.config.backbone_std).view(1, 3, 1, 1)
        return (gray.expand(-1, 3, -1, -1) - mean) / std

    def decode_features(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Encoder maps (shallowest first) -> decoder features at the shallowest scale."""
        hidden = features[-1]
        for stage, skip in zip(self.decoder, reversed(features[:-1])):
            hidden = stage(hidden, skip)
        return hidden

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        padded = pad_to_multiple(pixel_values, self.stride)
        hidden = self.decode_features(self.encoder(self.encoder_input(padded)))
        full_size = padded.shape[-2:]
        if self.classifies_colours:
            # (B, Q, H'/2, W'/2) -> (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
            logits = F.interpolate(self.classifier(hidden), size=full_size, mode="bilinear", align_corners=False)
            logits = logits[..., :height, :width]
            loss = None if labels is None else self.palette_loss(logits, labels)
            return ColorizationOutput(loss=loss, predicted_ab=self.decode(logits), logits=logits)
        # (B, 2, H'/2, W'/2) -> (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = F.interpolate(self.head(hidden), size=full_size, mode="bilinear", align_corners=False)
        predicted_ab = predicted_ab[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)
