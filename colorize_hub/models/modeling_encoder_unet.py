"""Encoder U-Net colorizer: a light U-Net decoder over an ImageNet-pretrained timm encoder (features_only)."""

import timm
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from .configuration_encoder_unet import ColorizerEncoderUnetConfig
from transformers import initialization as init

from .hint_inputs import HINT_CHANNELS, check_hints, hint_features
from .layers import AbHead, ConvNormAct, init_weights_keeping, pad_to_multiple
from .modeling_outputs import ColorizationOutput
from .palette_head import PaletteClassifier, PaletteHeadMixin, palette_cross_entropy


class ColorizerEncoderUnetPreTrainedModel(PreTrainedModel):
    config: ColorizerEncoderUnetConfig
    config_class = ColorizerEncoderUnetConfig
    base_model_prefix = "encoder_unet"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        init_weights_keeping(self, module, self.encoder_modules)
        if module is getattr(self, "hint_entry", None):  # hints start with no effect at all
            init.zeros_(module.weight)
            init.zeros_(module.bias)
        if getattr(module, "starts_at_zero", False):  # a refinement block's last norm: the block starts as identity
            init.zeros_(module.weight)
        if module is self and hasattr(self, "suggestion_palette"):
            self.suggestion_palette.copy_(torch.tensor(self.config.suggestion_palette))


class RefineBlock(nn.Module):
    """x + norm(conv(ConvNormAct(x))): decoder depth at one scale. Its last norm's scale is marked to start at
    zero (`_init_weights`), so a new block passes its input through unchanged until training moves it."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(ConvNormAct(channels, channels), ConvNormAct(channels, channels, activation=None))
        self.body[1][1].starts_at_zero = True

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.body(hidden)


class SkipStage(nn.Module):
    """Decoder step: bilinear x2 upsampling to the skip's size, concatenate the skip (and the hints pooled to that
    scale, for a model that takes hints: the conv's last input channels), 3x3 ConvNormAct, then `refine_blocks`
    residual blocks."""

    def __init__(self, in_channels, skip_channels, out_channels, hint_channels=0, refine_blocks=0):
        super().__init__()
        self.conv = ConvNormAct(in_channels + skip_channels + hint_channels, out_channels)
        self.refine = nn.Sequential(*(RefineBlock(out_channels) for _ in range(refine_blocks)))

    def forward(self, hidden: torch.Tensor, skip: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
        # (B, C_in, h, w) -> (B, C_in, 2h, 2w) ++ skip (B, C_skip, 2h, 2w) [++ hints (B, 3, 2h, 2w)] -> (B, C_out, 2h, 2w)
        hidden = F.interpolate(hidden, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        parts = [hidden, skip.to(hidden.dtype)] + ([] if hints is None else [hints.to(hidden.dtype)])
        return self.refine(self.conv(torch.cat(parts, dim=1)))


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
    regresses ab with an L1 loss. With `config.hints`, user colour hints (ab + mask at input resolution) are pooled
    to every decoder scale (on the grid of `config.hint_trained_size` at larger inputs) and concatenated to its
    skip, and added to the deepest features by a 3x3 conv; a second head on the (detached) last decoder features
    scores `config.suggestion_palette` per pixel. An encoder whose parameters are frozen (`requires_grad=False`)
    stays in eval mode, so training does not drift its BatchNorm statistics.
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
        hint_channels = HINT_CHANNELS if config.hints else 0
        self.decoder = nn.ModuleList(SkipStage(i, s, o, hint_channels, r) for i, s, o, r in
                                     zip(in_sizes, skip_sizes, sizes, config.decoder_refine_blocks))
        if config.head == "palette":
            self.init_palette_head(sizes[-1])
        else:
            self.head = AbHead(sizes[-1])
        if config.hints:
            self.hint_entry = nn.Conv2d(HINT_CHANNELS, channels[-1], 3, padding=1)
            palette = torch.tensor(config.suggestion_palette)
            # at 1/4 resolution (pooled from the decoder's 1/2): a colour distribution needs no finer detail
            self.suggester = nn.Sequential(nn.AvgPool2d(2), ConvNormAct(sizes[-1], 64, kernel_size=1),
                                           PaletteClassifier(64, len(palette)))
            self.register_buffer("suggestion_palette", palette)
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

    def decode_features(self, features: list[torch.Tensor], hints=None) -> torch.Tensor:
        """Encoder maps (shallowest first) -> decoder features at the shallowest scale; `hints`: (hint_ab,
        hint_mask) at input resolution, for a model that takes them."""
        hidden = features[-1]
        trained_size = self.config.hint_trained_size
        if hints is not None:
            entry = hint_features(*hints, hidden.shape[-2:], trained_size)
            hidden = hidden + self.hint_entry(entry).to(hidden.dtype)
        for stage, skip in zip(self.decoder, reversed(features[:-1])):
            pooled = None if hints is None else hint_features(*hints, skip.shape[-2:], trained_size)
            hidden = stage(hidden, skip, pooled)
        return hidden

    def padded_hints(self, pixel_values, hint_ab, hint_mask):
        """(hint_ab, hint_mask) zero-padded as `pad_to_multiple` pads the input (no hints: zeros); None for a model
        without hints, which refuses them."""
        check_hints(pixel_values, hint_ab, hint_mask)
        if not self.config.hints:
            if hint_ab is not None:
                raise ValueError(f"this {self.config.model_type} checkpoint does not take colour hints (config.hints "
                                 "is false); use one trained with them")
            return None
        if hint_ab is None:
            hint_ab = pixel_values.new_zeros(pixel_values.shape[0], 2, *pixel_values.shape[-2:])
            hint_mask = pixel_values.new_zeros(pixel_values.shape)
        pad_bottom, pad_right = -pixel_values.shape[-2] % self.stride, -pixel_values.shape[-1] % self.stride
        # (B, C, H, W) -> (B, C, H + pad_bottom, W + pad_right), zeros: no hints in the padding
        return F.pad(hint_ab, (0, pad_right, 0, pad_bottom)), F.pad(hint_mask, (0, pad_right, 0, pad_bottom))

    def suggestions(self, hidden: torch.Tensor, size, height: int, width: int) -> torch.Tensor:
        """Decoder features (B, C, H'/2, W'/2) -> (B, Q, H, W) scores of `suggestion_palette` (detached: this head
        learns alone and never changes the colorization)."""
        # (B, C, H'/2, W'/2) -> (B, Q, H'/4, W'/4) -> (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
        logits = F.interpolate(self.suggester(hidden.detach()), size=size, mode="bilinear", align_corners=False)
        return logits[..., :height, :width]

    def suggestion_loss(self, hidden: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Plain cross-entropy, at the suggester's 1/4 resolution, against the suggestion colour nearest to the
        true ab averaged over each cell: the scores estimate how likely each colour is (no rebalancing)."""
        logits = self.suggester(hidden.detach())  # (B, Q, H'/4, W'/4)
        # (B, 2, H, W) -> padded (B, 2, H', W') -> cell means (B, 2, H'/4, W'/4)
        cells = F.adaptive_avg_pool2d(pad_to_multiple(labels, self.stride), logits.shape[-2:])
        return palette_cross_entropy(logits, cells, self.suggestion_palette, None)

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None,
                hint_ab: torch.Tensor | None = None, hint_mask: torch.Tensor | None = None,
                return_suggestions: bool = False) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        padded = pad_to_multiple(pixel_values, self.stride)
        hints = self.padded_hints(pixel_values, hint_ab, hint_mask)
        hidden = self.decode_features(self.encoder(self.encoder_input(padded)), hints)
        full_size = padded.shape[-2:]
        suggestion_logits = None
        if self.config.hints and return_suggestions:
            suggestion_logits = self.suggestions(hidden, full_size, height, width)
        logits = None
        if self.classifies_colours:
            # (B, Q, H'/2, W'/2) -> (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
            logits = F.interpolate(self.classifier(hidden), size=full_size, mode="bilinear", align_corners=False)
            logits = logits[..., :height, :width]
            loss = None if labels is None else self.palette_loss(logits, labels)
            predicted_ab = self.decode(logits)
        else:
            # (B, 2, H'/2, W'/2) -> (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
            predicted_ab = F.interpolate(self.head(hidden), size=full_size, mode="bilinear", align_corners=False)
            predicted_ab = predicted_ab[..., :height, :width]
            loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        if loss is not None and self.config.hints:
            loss = loss + self.suggestion_loss(hidden, labels)
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab, logits=logits,
                                  suggestion_logits=suggestion_logits)

