"""Fusion colorizer (Deep Koalarization): conv encoder-decoder + a timm classifier's global embedding."""

import timm
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from .configuration_fusion import ColorizerFusionConfig
from .layers import (
    AbHead, ConvNormAct, DownPath, PaletteClassifier, annealed_mean, fill_palette_buffers, init_conv_weights,
    pad_to_multiple, palette_cross_entropy, register_palette_buffers, upsample_stages,
)
from .modeling_outputs import ColorizationOutput


class ColorizerFusionPreTrainedModel(PreTrainedModel):
    config: ColorizerFusionConfig
    config_class = ColorizerFusionConfig
    base_model_prefix = "fusion"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        # the timm backbone is flagged as initialised in __init__: its own (or loaded) weights are kept
        init_conv_weights(module)
        if isinstance(module, ColorizerFusionForColorization) and module.config.head == "palette":
            fill_palette_buffers(module, self.config)


class ColorizerFusionForColorization(ColorizerFusionPreTrainedModel):
    """
    ```
    L (1, H, W) -> encoder: 32 @ H -> 64 @ H/2 -> 128 @ H/4 -> 256 @ H/8 ──┐
    L -> gray RGB @ 224x224 -> backbone -> embedding (D) -> tiled D @ H/8 ──┴─ cat -> 1x1 conv -> 256 @ H/8
      -> up 128 @ H/4 -> up 64 @ H/2 -> up 32 @ H -> 1x1 conv, tanh -> ab (2, H, W)
    ```
    With `config.head == "palette"` the last step is instead a 1x1 conv to one logit per palette colour,
    decoded by the annealed mean (as the U-Net-24 does) and trained by rebalanced cross-entropy.
    A backbone whose parameters are frozen (`requires_grad=False`) stays in eval mode, so training does
    not drift its BatchNorm statistics.
    """

    def __init__(self, config: ColorizerFusionConfig):
        super().__init__(config)
        self.backbone = timm.create_model(config.backbone, pretrained=False, num_classes=0)
        pretrained_cfg = self.backbone.pretrained_cfg
        config.backbone_image_size = config.backbone_image_size or pretrained_cfg["input_size"][-1]
        config.backbone_mean = list(config.backbone_mean or pretrained_cfg["mean"])
        config.backbone_std = list(config.backbone_std or pretrained_cfg["std"])
        for module in self.backbone.modules():
            module._is_hf_initialized = True
        sizes = config.encoder_hidden_sizes
        self.encoder = DownPath(sizes)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)  # training only: see the config
        self.fusion = ConvNormAct(sizes[-1] + self.backbone.num_features, config.fusion_size, kernel_size=1)
        self.decoder = upsample_stages([*sizes[:-1], config.fusion_size])
        if config.head == "palette":
            self.classifier = PaletteClassifier(sizes[0], config.num_colors)
            register_palette_buffers(self, config)
        else:
            self.head = AbHead(sizes[0])
        self.stride = 2 ** (len(sizes) - 1)
        self.post_init()

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and not any(parameter.requires_grad for parameter in self.backbone.parameters()):
            self.backbone.eval()
        return self

    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Global embedding (B, D) of the gray image, as the backbone was pretrained to see it."""
        size = self.config.backbone_image_size
        gray = (pixel_values + 1) / 2  # normalised L [-1, 1] -> [0, 1]
        # (B, 1, H, W) -> (B, 1, S, S) -> (B, 3, S, S)
        gray = F.interpolate(gray, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        mean = gray.new_tensor(self.config.backbone_mean).view(1, 3, 1, 1)
        std = gray.new_tensor(self.config.backbone_std).view(1, 3, 1, 1)
        return self.backbone((gray.expand(-1, 3, -1, -1) - mean) / std)

    def fuse(self, hidden: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """`self.fusion` applied to [hidden (B, C, h, w), the embedding (B, D) repeated at every position].

        A 1x1 conv of that concatenation is the conv of `hidden` plus the embedding's share, which is the same
        at every position: it is computed once per image, so the D channels are never tiled over the map.
        """
        conv, norm, activation = self.fusion
        own, shared = conv.weight.split([hidden.shape[1], embedding.shape[1]], dim=1)  # (F, C, 1, 1), (F, D, 1, 1)
        # (B, D) @ (D, F) -> (B, F, 1, 1), broadcast over (B, F, h, w)
        per_image = (embedding.to(hidden.dtype) @ shared.flatten(1).T.to(hidden.dtype))[:, :, None, None]
        return activation(norm(F.conv2d(hidden, own, conv.bias) + per_image))

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        hidden = self.encoder(pad_to_multiple(pixel_values, self.stride))[-1]
        hidden = self.decoder(self.fuse(hidden, self.embedding_dropout(self.embed(pixel_values))))
        if self.config.head == "palette":
            # (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
            logits = self.classifier(hidden)[..., :height, :width]
            loss = None if labels is None else palette_cross_entropy(logits, labels, self.palette, self.class_weights)
            predicted_ab = annealed_mean(logits, self.palette, self.config.annealed_temperature)
            return ColorizationOutput(loss=loss, predicted_ab=predicted_ab, logits=logits)
        # (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = self.head(hidden)[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)
