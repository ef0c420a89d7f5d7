"""Primitives that are identical in every architecture that uses them.

Only building blocks live here; each model composes its own network from them in its own file, so a
model's structure can be read in one place. This file sits beside the modeling files because remote
code (`trust_remote_code=True`) copies a modeling file together with its sibling modules only.
"""

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True),
    "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=True),
    None: nn.Identity,
}


class ConvNormAct(nn.Sequential):
    """Conv2d -> BatchNorm2d -> activation; 'same' padding for odd kernels and for stride-2 kernels of 4."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, dilation=1, activation="relu", norm=True):
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, bias=not norm),
            nn.BatchNorm2d(out_channels) if norm else nn.Identity(),
            _ACTIVATIONS[activation](),
        )


class SummingConvNormAct(ConvNormAct):
    """A ConvNormAct whose norm also normalises terms its owner adds to the conv's output before the norm.

    Its own type, because such a norm must never be folded into the conv at inference: the added terms would
    then skip the scaling (the loader folds every other conv-BatchNorm pair).
    """


class DeconvNormAct(nn.Sequential):
    """ConvTranspose2d(4, stride 2) -> BatchNorm2d -> activation (-> dropout): doubles height and width."""

    def __init__(self, in_channels, out_channels, activation="relu", norm=True, dropout=0.0):
        super().__init__(
            nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=not norm),
            nn.BatchNorm2d(out_channels) if norm else nn.Identity(),
            _ACTIVATIONS[activation](),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
        )


class UpsampleConvNormAct(nn.Sequential):
    """Bilinear x2 upsampling then a 3x3 ConvNormAct (no checkerboard artefacts, unlike a transposed conv)."""

    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            ConvNormAct(in_channels, out_channels),
        )


class DownStage(nn.Sequential):
    """`num_convs` 3x3 ConvNormAct; the first one has `stride` (2 halves the resolution)."""

    def __init__(self, in_channels, out_channels, stride=2, num_convs=2):
        convs = [ConvNormAct(in_channels, out_channels, stride=stride)]
        convs += [ConvNormAct(out_channels, out_channels) for _ in range(num_convs - 1)]
        super().__init__(*convs)


class DownPath(nn.ModuleList):
    """Encoder of a one-channel image: a full-resolution stem, then one stride-2 `DownStage` per further size.

    Returns the output of every stage (the U-Nets' skips; the last one is the bottleneck).
    """

    def __init__(self, hidden_sizes, num_convs=2):
        in_sizes = [1] + list(hidden_sizes[:-1])
        strides = [1] + [2] * (len(hidden_sizes) - 1)
        super().__init__(DownStage(i, o, s, num_convs) for i, o, s in zip(in_sizes, hidden_sizes, strides))

    def forward(self, hidden: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self:
            hidden = stage(hidden)
            features.append(hidden)
        return features


def upsample_stages(hidden_sizes) -> nn.Sequential:
    """Decoder mirroring `DownPath` without skips: from hidden_sizes[-1] back to hidden_sizes[0] channels."""
    sizes = list(hidden_sizes)[::-1]
    return nn.Sequential(*[UpsampleConvNormAct(a, b) for a, b in zip(sizes[:-1], sizes[1:])])


class UpStage(nn.Module):
    """U-Net decoder step: transposed conv x2, concatenate the encoder's skip, 3x3 ConvNormAct."""

    def __init__(self, in_channels, skip_channels, out_channels):
        super().__init__()
        self.up = DeconvNormAct(in_channels, out_channels)
        self.conv = ConvNormAct(out_channels + skip_channels, out_channels)

    def forward(self, hidden: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        # (B, C_in, h, w) -> (B, C_out, 2h, 2w) ++ skip (B, C_skip, 2h, 2w) -> (B, C_out, 2h, 2w)
        return self.conv(torch.cat([self.up(hidden), skip], dim=1))


class UpPath(nn.ModuleList):
    """U-Net decoder mirroring `DownPath(hidden_sizes)`: one `UpStage` per level, deepest first."""

    def __init__(self, hidden_sizes):
        sizes = list(hidden_sizes)[::-1]
        super().__init__(UpStage(a, b, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, hidden: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """`skips`: the encoder features above the bottleneck, full resolution first."""
        for stage, skip in zip(self, reversed(skips)):
            hidden = stage(hidden, skip)
        return hidden


class AbHead(nn.Conv2d):
    """1x1 conv -> tanh: features to normalised ab in (-1, 1). Starts near zero, i.e. at the gray image."""

    def __init__(self, in_channels):
        super().__init__(in_channels, 2, kernel_size=1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(super().forward(hidden))


def pad_to_multiple(pixel_values: torch.Tensor, multiple: int) -> torch.Tensor:
    """Replicate-pad bottom and right so height and width are multiples of `multiple` (a network's total stride)."""
    height, width = pixel_values.shape[-2:]
    pad_bottom, pad_right = -height % multiple, -width % multiple
    if pad_bottom == 0 and pad_right == 0:
        return pixel_values
    # (B, C, H, W) -> (B, C, H + pad_bottom, W + pad_right)
    return F.pad(pixel_values, (0, pad_right, 0, pad_bottom), mode="replicate")


def init_weights_keeping(model: nn.Module, module: nn.Module, pretrained_modules: frozenset) -> None:
    """`_init_weights` of a model with an ImageNet-pretrained part: its modules keep their own (or loaded) weights,
    the others are initialised by `init_conv_weights`, and a palette head's buffers are filled once, at the model."""
    if module in pretrained_modules:
        return
    init_conv_weights(module)
    if module is model and getattr(model, "classifies_colours", False):
        model.fill_palette_buffers()


def init_conv_weights(module: nn.Module) -> None:
    """He-normal convolutions (ReLU networks), zero biases, unit norms.

    Uses `transformers.initialization` so weights already loaded by `from_pretrained` are left alone.
    """
    if isinstance(module, AbHead):
        init.normal_(module.weight, std=1e-3)
        init.zeros_(module.bias)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        init.ones_(module.weight)
        init.zeros_(module.bias)
        init.zeros_(module.running_mean)
        init.ones_(module.running_var)
        init.zeros_(module.num_batches_tracked)
