"""Colour hints from a user: "this point is this colour" -> the model's hint inputs.

A hint is `(x, y, colour)`: a point in the input photo's own pixels (x to the right, y down, from the top-left
corner) and an sRGB colour as `(r, g, b)` in 0..255 or `"#rrggbb"`. Only the colour's chroma (CIE ab) is used:
the photo keeps its own lightness, so a hint says "blue", not "this exact blue". Each hint marks a small square
of the render-size image (`hint_patch`), as the model saw hints in training.
"""

import json
import math
import numbers
from pathlib import Path

import torch

from .color import rgb_to_normalized_lab
from .errors import ColorizationError

MAX_HINTS = 200  # far more than anyone clicks; bounds the work a request can ask for


def parse_colour(colour) -> tuple[int, int, int]:
    """`(r, g, b)` in 0..255 or `"#rrggbb"` (also `"rrggbb"`, `"#rgb"`) -> (r, g, b) ints."""
    if hasattr(colour, "tolist") and not isinstance(colour, str):  # a numpy array or tensor of three values
        colour = colour.tolist()
    if isinstance(colour, str):
        text = colour.strip().lstrip("#")
        if len(text) == 3:
            text = "".join(c * 2 for c in text)
        if len(text) == 6 and all(c in "0123456789abcdefABCDEF" for c in text):
            return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))
        raise ColorizationError(f"Hint colour {colour!r} is not a colour: use '#rrggbb' or (r, g, b) in 0..255.")
    if isinstance(colour, (list, tuple)) and len(colour) == 3 and all(
            isinstance(c, numbers.Real) and not isinstance(c, bool) and math.isfinite(c) and 0 <= c <= 255
            for c in colour):
        return tuple(int(round(c)) for c in colour)
    raise ColorizationError(f"Hint colour {colour!r} is not a colour: use '#rrggbb' or (r, g, b) in 0..255.")


def hex_colour(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*parse_colour(rgb))


def parse_hints(hints, size: tuple[int, int]) -> list[tuple[float, float, tuple[int, int, int]]]:
    """Validate hints for a photo of `size` (width, height): a list of (x, y, colour), or of dicts with keys
    x, y and color (or colour). Raises ColorizationError naming the first bad hint and why."""
    if hints is None:
        return []
    if isinstance(hints, (str, bytes, dict)) or not hasattr(hints, "__iter__"):
        raise ColorizationError("hints must be a list of (x, y, colour) points, e.g. [(120, 80, '#3060c0')].")
    width, height = size
    parsed = []
    for number, hint in enumerate(hints, start=1):
        if isinstance(hint, dict):
            hint = (hint.get("x"), hint.get("y"), hint.get("color", hint.get("colour")))
        if not isinstance(hint, (list, tuple)) or len(hint) != 3:
            raise ColorizationError(f"Hint {number} is {hint!r}; each hint is (x, y, colour).")
        x, y, colour = hint
        for name, value, limit in (("x", x, width), ("y", y, height)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ColorizationError(f"Hint {number}: {name} = {value!r} is not a number of pixels.")
            if not 0 <= value < limit:
                raise ColorizationError(f"Hint {number}: {name} = {value} is outside the photo ({width}x{height} "
                                        f"pixels: x in 0..{width - 1}, y in 0..{height - 1}).")
        try:
            parsed.append((float(x), float(y), parse_colour(colour)))
        except ColorizationError as err:
            raise ColorizationError(f"Hint {number}: {err}") from None
    if len(parsed) > MAX_HINTS:
        raise ColorizationError(f"{len(parsed)} hints is more than {MAX_HINTS}; a few well placed points suffice.")
    return parsed


def load_hints_file(path: str | Path) -> list:
    """A JSON file of hints: `[{"x": 120, "y": 80, "color": "#3060c0"}, ...]` or `[[120, 80, [48, 96, 192]], ...]`."""
    try:
        hints = json.loads(Path(path).read_text())
    except OSError as err:
        raise ColorizationError(f"Cannot read the hints file {path}: {err}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ColorizationError(f"The hints file {path} is not JSON ({err}); write a list of "
                                '{"x": ..., "y": ..., "color": "#rrggbb"} objects.') from err
    if not isinstance(hints, list):
        raise ColorizationError(f"The hints file {path} must hold a JSON list of hints, not {type(hints).__name__}.")
    return hints


def hint_patch(render_size: int) -> int:
    """Side of the square a hint marks at the render size: 5 pixels at 256 (a click's worth), odd, at least 3."""
    return max(3, round(5 * render_size / 256)) | 1


def colour_ab(colours: list[tuple[int, int, int]]) -> torch.Tensor:
    """(N,) sRGB colours -> (N, 2) normalised ab."""
    rgb = torch.tensor(colours, dtype=torch.float32).view(-1, 3, 1, 1) / 255  # (N, 3, 1, 1)
    return rgb_to_normalized_lab(rgb)[1].view(-1, 2)


def hint_tensors(hints, size: tuple[int, int], render_size: int, chroma: float = 1.0) -> dict[str, torch.Tensor]:
    """Hints on a photo of `size` (width, height) -> {"hint_ab": (1, 2, S, S), "hint_mask": (1, 1, S, S)} at the
    render size S (the photo is squashed to S x S, so x and y scale separately).

    `chroma`: the chroma multiplier the post-processing applies (checkpoint gain x saturation); hints are divided
    by it, so the hinted colour comes out as the user chose it.
    """
    parsed = parse_hints(hints, size)
    hint_ab, hint_mask = torch.zeros(1, 2, render_size, render_size), torch.zeros(1, 1, render_size, render_size)
    if not parsed:
        return {"hint_ab": hint_ab, "hint_mask": hint_mask}
    width, height = size
    half = hint_patch(render_size) // 2
    for (x, y, _), ab in zip(parsed, colour_ab([colour for _, _, colour in parsed]) / max(chroma, 1e-6)):
        # centre of the photo pixel -> the render pixel it falls in
        column = min(render_size - 1, int((x + 0.5) * render_size / width))
        row = min(render_size - 1, int((y + 0.5) * render_size / height))
        rows, columns = slice(max(0, row - half), row + half + 1), slice(max(0, column - half), column + half + 1)
        hint_ab[0, :, rows, columns] = ab.clamp(-1, 1).view(2, 1, 1)
        hint_mask[0, :, rows, columns] = 1
    return {"hint_ab": hint_ab, "hint_mask": hint_mask}


def takes_hints(model) -> bool:
    """Whether a loaded model accepts colour hints (its config enables them)."""
    return bool(getattr(getattr(model, "config", None), "hints", False))
