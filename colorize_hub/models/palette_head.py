"""The palette head: per-pixel classification over k-means ab colours (Zhang et al., ECCV 2016), shared by every
architecture that classifies colours.

A model gets it by inheriting `PaletteHeadMixin` and calling `init_palette_head` in `__init__`: that adds the
1x1 classifier (`self.classifier`) and the palette and class weights as persistent buffers (`self.palette`,
`self.class_weights`), under the same state-dict names every checkpoint of such a model has always used. The
model's config carries `palette`, `class_weights` and `annealed_temperature` (validated by `palette_settings`).
This file sits beside the modeling files: remote code copies a modeling file with its sibling imports only.
"""

import torch
import torch.nn.functional as F
from torch import nn

# 24 k-means centres of ab (normalised: ab / 110) over 881 photos of ImageNet and BSDS500
# (`compute_palette("train/general")`, seed 0), ordered by chroma. A checkpoint trained on other data ships its
# own palette in its config.json.
DEFAULT_PALETTE = [
    [0.0007, -0.0038], [-0.0087, 0.0431], [-0.0034, -0.0795], [0.0426, 0.0808], [-0.092, -0.0045], [0.0937, -0.0248],
    [-0.0392, 0.112], [0.0311, 0.1569], [-0.0465, -0.1753], [-0.1355, 0.1315], [0.1558, 0.1169], [-0.0474, 0.2258],
    [0.0892, 0.2286], [0.0292, -0.2783], [-0.2211, 0.2441], [0.2215, 0.2655], [0.054, 0.3483], [-0.1299, 0.3285],
    [0.3968, 0.1641], [0.1663, -0.4744], [0.2487, 0.437], [-0.2864, 0.4291], [0.026, 0.5889], [0.4958, 0.3693],
]
DEFAULT_TEMPERATURE = 0.38  # Zhang et al.'s compromise between the (brown) mean and the (patchy) mode


def palette_settings(palette, class_weights) -> tuple[list[list[float]], list[float]]:
    """Validated (palette, class_weights) of a colour-classifying model; `DEFAULT_PALETTE`, unit weights by default."""
    palette = [list(map(float, centre)) for centre in (palette or DEFAULT_PALETTE)]
    class_weights = list(map(float, class_weights)) if class_weights else [1.0] * len(palette)
    if len(class_weights) != len(palette):
        raise ValueError(f"class_weights has {len(class_weights)} entries for {len(palette)} colours")
    return palette, class_weights


HEADS = ("regression", "palette")  # what a config's `head` may be: regress ab, or classify it over the palette


def head_settings(head, palette, class_weights, annealed_temperature):
    """A config's (palette, class_weights, annealed_temperature) for its `head`: validated, with the defaults, for
    the palette head; all None for regression, which has no palette."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, not {head!r}")
    if head != "palette":
        return None, None, None
    palette, class_weights = palette_settings(palette, class_weights)
    return palette, class_weights, DEFAULT_TEMPERATURE if annealed_temperature is None else annealed_temperature


class PaletteConfigMixin:
    """`num_colors` for a config that may carry a palette (0 without one)."""

    @property
    def num_colors(self) -> int:
        return len(self.palette) if self.palette else 0


class PaletteClassifier(nn.Conv2d):
    """1x1 conv: features to one logit per palette colour."""

    def __init__(self, in_channels, num_colors):
        super().__init__(in_channels, num_colors, kernel_size=1)


def nearest_palette_color(ab: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) normalised ab -> (B, H, W) index of the closest of the (Q, 2) palette colours."""
    # (B, 2, H, W) -> (B, H, W, 1, 2) - (Q, 2) -> (B, H, W, Q)
    distances = (ab.float().permute(0, 2, 3, 1).unsqueeze(-2) - palette).square().sum(-1)
    return distances.argmin(-1)


def palette_cross_entropy(logits, labels, palette, class_weights) -> torch.Tensor:
    """Rebalanced cross-entropy of (B, Q, H, W) logits against the palette colour nearest to the true ab."""
    return F.cross_entropy(logits.float(), nearest_palette_color(labels, palette), weight=class_weights)


def annealed_mean(logits: torch.Tensor, palette: torch.Tensor, temperature: float) -> torch.Tensor:
    """(B, Q, H, W) logits -> (B, 2, H, W) float32 normalised ab: the palette's expectation under softmax(logits / T).

    Works on a planar float32 copy (channels-last logits are transposed by the copy itself), scaled in place:
    the softmax over Q then runs along contiguous rows of pixels, and the expectation is one matrix product.
    """
    scaled = logits.to(torch.float32, memory_format=torch.contiguous_format)
    scaled = scaled / temperature if scaled is logits else scaled.mul_(1.0 / temperature)
    probabilities = torch.softmax(scaled, dim=1)
    batch, colors, height, width = probabilities.shape
    # sum_q p(q) * palette[q]: (2, Q) @ (B, Q, H*W) -> (B, 2, H*W)
    ab = palette.float().T @ probabilities.view(batch, colors, height * width)
    return ab.view(batch, 2, height, width)


class PaletteHeadMixin:
    """Classifier, palette buffers, rebalanced loss and annealed-mean decoding for a `PreTrainedModel`.

    `classifies_colours` is the capability the rest of the package asks for (calibration searches the
    temperature, training reports per-pixel class accuracy); it is False until `init_palette_head` runs, so a
    model whose config chooses another head simply does not call it.
    """

    def init_palette_head(self, in_channels: int) -> None:
        """Add `self.classifier` and the persistent `palette` (Q, 2) and `class_weights` (Q,) buffers."""
        self.classifier = PaletteClassifier(in_channels, len(self.config.palette))
        self.register_buffer("palette", torch.tensor(self.config.palette))
        self.register_buffer("class_weights", torch.tensor(self.config.class_weights))

    @property
    def classifies_colours(self) -> bool:
        return "palette" in self._buffers

    def fill_palette_buffers(self) -> None:
        """Copy the config's palette and class weights into the buffers (also on a model built on the meta device,
        where `from_pretrained` would otherwise leave them as zeros until the weights arrive)."""
        self.palette.copy_(torch.tensor(self.config.palette))
        self.class_weights.copy_(torch.tensor(self.config.class_weights))

    def palette_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Rebalanced cross-entropy of (B, Q, H, W) logits against (B, 2, H, W) normalised true ab."""
        return palette_cross_entropy(logits, labels, self.palette, self.class_weights)

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Annealed mean at `config.annealed_temperature`: (B, Q, H, W) logits -> (B, 2, H, W) normalised ab."""
        return annealed_mean(logits, self.palette, self.config.annealed_temperature)

    def nearest_color(self, ab: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) normalised ab -> (B, H, W) index of the closest palette colour."""
        return nearest_palette_color(ab, self.palette)
