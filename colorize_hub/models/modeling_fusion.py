"""Fusion colorizer (Deep Koalarization): conv encoder-decoder + a timm classifier's global embedding."""

import timm
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from .configuration_fusion import ColorizerFusionConfig
from .layers import AbHead, ConvNormAct, DownPath, SummingConvNormAct, init_weights_keeping, pad_to_multiple, upsample_stages
from .modeling_outputs import ColorizationOutput
from .palette_head import PaletteHeadMixin


class ColorizerFusionPreTrainedModel(PreTrainedModel):
    config: ColorizerFusionConfig
    config_class = ColorizerFusionConfig
    base_model_prefix = "fusion"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        if module is getattr(self, "feature_fusion", None):  # starts as a no-op: see backbone_feature_stage
            init.zeros_(module.weight)
        else:
            init_weights_keeping(self, module, self.backbone_modules)


class ColorizerFusionForColorization(PaletteHeadMixin, ColorizerFusionPreTrainedModel):
    """
    ```
    L (1, H, W) -> encoder: 32 @ H -> 64 @ H/2 -> 128 @ H/4 -> 256 @ H/8 ──┐
    L -> gray RGB @ 224x224 -> backbone -> embedding (D) -> tiled D @ H/8 ──┴─ cat -> 1x1 conv -> 256 @ H/8
      -> up 128 @ H/4 -> up 64 @ H/2 -> up 32 @ H -> 1x1 conv, tanh -> ab (2, H, W)
    ```
    With `config.backbone_feature_stage` set, one of the backbone's spatial maps (e.g. 112 @ 14x14) goes through
    its own 1x1 conv, is resized to H/8 and joins the same sum before the fusion's norm and activation.
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
        self.backbone_modules = frozenset(self.backbone.modules())  # left alone by _init_weights
        sizes = config.encoder_hidden_sizes
        self.encoder = DownPath(sizes)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)  # training only: see the config
        # with a feature map, its norm also scales the term `fuse` adds: a type the loader never folds
        block = ConvNormAct if config.backbone_feature_stage is None else SummingConvNormAct
        self.fusion = block(sizes[-1] + self.backbone.num_features, config.fusion_size, kernel_size=1)
        self.feature_fusion = self.feature_dropout = None
        if config.backbone_feature_stage is not None:
            stages = self.backbone.feature_info
            if config.backbone_feature_stage >= len(stages):
                msg = f"backbone_feature_stage {config.backbone_feature_stage}: {config.backbone} has {len(stages)}"
                raise ValueError(msg + " feature stages")
            channels = stages[config.backbone_feature_stage]["num_chs"]
            self.feature_dropout = nn.Dropout(config.backbone_feature_dropout)  # training only
            self.feature_fusion = nn.Conv2d(channels, config.fusion_size, kernel_size=1, bias=False)
        self.decoder = upsample_stages([*sizes[:-1], config.fusion_size])
        if config.head == "palette":
            self.init_palette_head(sizes[0])
        else:
            self.head = AbHead(sizes[0])
        self.stride = 2 ** (len(sizes) - 1)
        self.post_init()

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and not any(parameter.requires_grad for parameter in self.backbone.parameters()):
            self.backbone.eval()
        return self

    def embed(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Global embedding (B, D) of the gray image, as the backbone was pretrained to see it, and the feature map
        (B, C, s, s) of `config.backbone_feature_stage` (None when unset)."""
        size = self.config.backbone_image_size
        gray = (pixel_values + 1) / 2  # normalised L [-1, 1] -> [0, 1]
        # (B, 1, H, W) -> (B, 1, S, S) -> (B, 3, S, S)
        gray = F.interpolate(gray, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        mean = gray.new_tensor(self.config.backbone_mean).view(1, 3, 1, 1)
        std = gray.new_tensor(self.config.backbone_std).view(1, 3, 1, 1)
        gray = (gray.expand(-1, 3, -1, -1) - mean) / std
        if self.config.backbone_feature_stage is None:
            return self.backbone(gray), None
        final, (feature_map,) = self.backbone.forward_intermediates(gray, indices=[self.config.backbone_feature_stage])
        return self.backbone.forward_head(final), feature_map

    def fuse(self, hidden: torch.Tensor, embedding: torch.Tensor, feature_map: torch.Tensor | None = None,
             size: tuple[int, int] | None = None) -> torch.Tensor:
        """`self.fusion` applied to [hidden (B, C, h, w), the embedding (B, D) repeated at every position], plus
        `self.feature_fusion` of the backbone's feature map resized to `size` (the unpadded part of hidden).

        A 1x1 conv of that concatenation is the conv of `hidden` plus the embedding's share, which is the same
        at every position: it is computed once per image, so the D channels are never tiled over the map.
        """
        conv, norm, activation = self.fusion
        own, shared = conv.weight.split([hidden.shape[1], embedding.shape[1]], dim=1)  # (F, C, 1, 1), (F, D, 1, 1)
        # (B, D) @ (D, F) -> (B, F, 1, 1), broadcast over (B, F, h, w)
        per_image = (embedding.to(hidden.dtype) @ shared.flatten(1).T.to(hidden.dtype))[:, :, None, None]
        fused = F.conv2d(hidden, own, conv.bias) + per_image
        if feature_map is not None:
            fused = fused + self.spread_features(feature_map.to(hidden.dtype), size or hidden.shape[-2:], hidden)
        return activation(norm(fused))

    def spread_features(self, feature_map: torch.Tensor, size: tuple[int, int], hidden: torch.Tensor) -> torch.Tensor:
        """(B, C, s, s) -> 1x1 conv -> (B, F, s, s) -> resized to `size` -> edge-padded to hidden's (h, w).

        The conv runs before the resize (both are linear, so the order does not change the result) on the small
        map. The backbone saw the unpadded image, so its map covers the first `size` rows and columns of hidden.
        """
        features = F.interpolate(self.feature_fusion(feature_map), size=size, mode="bilinear", align_corners=False)
        pad_bottom, pad_right = hidden.shape[-2] - size[0], hidden.shape[-1] - size[1]
        return F.pad(features, (0, pad_right, 0, pad_bottom), mode="replicate") if pad_bottom or pad_right else features

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> ColorizationOutput:
        height, width = pixel_values.shape[-2:]
        hidden = self.encoder(pad_to_multiple(pixel_values, self.stride))[-1]
        embedding, feature_map = self.embed(pixel_values)
        if feature_map is not None:
            feature_map = self.feature_dropout(feature_map)
        size = (-(-height // self.stride), -(-width // self.stride))  # ceil: the rows and columns the image covers
        hidden = self.decoder(self.fuse(hidden, self.embedding_dropout(embedding), feature_map, size))
        if self.classifies_colours:
            # (B, Q, H', W') -> crop the padding -> (B, Q, H, W)
            logits = self.classifier(hidden)[..., :height, :width]
            loss = None if labels is None else self.palette_loss(logits, labels)
            return ColorizationOutput(loss=loss, predicted_ab=self.decode(logits), logits=logits)
        # (B, 2, H', W') -> crop the padding -> (B, 2, H, W)
        predicted_ab = self.head(hidden)[..., :height, :width]
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)
