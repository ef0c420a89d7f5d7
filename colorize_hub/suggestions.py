"""Colour suggestions for a point: the colours a hint-taking model finds most likely there (Zhang et al. 2017's
gamut panel), so a user can place a plausible hint with one click."""

from dataclasses import dataclass

import torch

from .checkpoints import hint_checkpoints
from .color import AB_SCALE, lab_to_rgb
from .errors import ColorizationError
from .hints import hex_colour, parse_hints, takes_hints
from .loading import as_colorizer
from .pipeline import model_hints


@dataclass(frozen=True)
class Suggestion:
    """A colour offered for a point: `colour` as "#rrggbb" at the photo's own lightness there, `probability`
    the model's estimate that the point is this colour."""

    colour: str
    probability: float


def default_hint_model() -> str:
    capable = hint_checkpoints()
    if not capable:
        raise ColorizationError("No bundled checkpoint takes colour hints; pass one trained with them.")
    return capable[0]


@torch.inference_mode()
def suggest_colours(image, x: float, y: float, model=None, count: int = 6, hints=None,
                    render_size: int | None = None, max_pixels: int | None = None) -> list[Suggestion]:
    """The `count` most likely colours at point (x, y) of `image` (its own pixels), most likely first, given the
    `hints` already placed. `model`: a checkpoint that takes hints (default: the first bundled one)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ColorizationError(f"count must be a positive whole number, got {count!r}.")
    model, processor = as_colorizer(model or default_hint_model())
    if not takes_hints(model):
        raise ColorizationError(f"{model.config.model_type} does not take colour hints, so it has no suggestions; "
                                f"use {', '.join(hint_checkpoints()) or 'a checkpoint trained with hints'}.")
    inputs = processor(image, render_size=render_size, max_pixels=max_pixels)
    lightness = inputs["original_lightness"][0]  # (1, H, W), L in [0, 100]
    height, width = lightness.shape[-2:]
    parse_hints([(x, y, "#000000")], (width, height))  # the point itself must be on the photo
    hint_inputs = model_hints(model, processor, inputs, hints) or {}
    parameter = next(model.parameters())
    output = model(inputs["pixel_values"].to(parameter.device, parameter.dtype),
                   **{k: v.to(parameter.device, parameter.dtype) for k, v in hint_inputs.items()},
                   return_suggestions=True)
    size = inputs["pixel_values"].shape[-1]
    row, column = min(size - 1, int((y + 0.5) * size / height)), min(size - 1, int((x + 0.5) * size / width))
    probabilities = output.suggestion_logits[0, :, row, column].float().softmax(0)  # (Q,)
    # the photo's lightness around the point: a suggestion is shown as it would look there
    top, left = int(y), int(x)
    point_l = lightness[0, max(0, top - 2) : top + 3, max(0, left - 2) : left + 3].float().mean()
    palette = model.suggestion_palette.float() * AB_SCALE  # (Q, 2) ab
    suggestions, seen = [], set()
    for index in probabilities.argsort(descending=True).tolist():
        lab = torch.stack([point_l, *palette[index]]).view(1, 3, 1, 1)
        colour = hex_colour([round(float(c) * 255) for c in lab_to_rgb(lab).clamp(0, 1).view(3)])
        if colour not in seen:
            seen.add(colour)
            suggestions.append(Suggestion(colour, round(float(probabilities[index]), 4)))
        if len(suggestions) == count:
            break
    return suggestions
