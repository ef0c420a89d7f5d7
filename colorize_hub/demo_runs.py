"""What the Gradio demo (app.py) does with one request: check the settings, decode the photo once, run models on it.

Each upload is decoded once into a `LoadedImage` (full-resolution L and alpha); the gray "before" image and every
model's result are made from that one decode, so Compare all does not decode the photo once per model. A user's
bad input becomes a `gr.Error` with the library's message, logged as one line (no traceback); an unexpected
failure is logged with its traceback and reaches the user as a short message, and the app carries on.
"""

import json
import logging
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

from .errors import ColorizationError
from .forward_batcher import ForwardBatcher
from .image_processing_colorization import ColorizationImageProcessor, LoadedImage
from .loading import load_colorizer
from .pipeline import colorize_loaded

logger = logging.getLogger("colorize_hub.app")

DEFAULT_MAX_PIXELS = ColorizationImageProcessor.max_pixels  # 50 megapixels
RENDER_MIN, RENDER_MAX, RENDER_STEP = 128, 512, 32


def own_render_size(folder: Path | None, fallback: int = 256) -> int:
    """The render size a checkpoint folder is calibrated at (its preprocessor_config.json), on the slider's grid;
    `fallback` when the folder has none."""
    try:
        size = int(json.loads((Path(folder) / "preprocessor_config.json").read_text())["render_size"])
    except (TypeError, OSError, ValueError, KeyError):
        return fallback
    return min(RENDER_MAX, max(RENDER_MIN, round(size / RENDER_STEP) * RENDER_STEP))


def user_error(message: str) -> gr.Error:
    """A gr.Error for something the user can fix: shown to them, logged here as one line, no traceback."""
    logger.info("Refused a request: %s", message)
    return gr.Error(message, print_exception=False)


def check_request(image: str | None, render_size: float, saturation: float) -> int:
    """Refuse what the sliders cannot produce (API callers can send anything); return render size as int."""
    if image is None:
        raise user_error("Upload a black-and-white photo first (PNG, JPEG, WebP, TIFF...).")
    try:
        size = int(render_size)
        size_ok = size == render_size and RENDER_MIN <= size <= RENDER_MAX and not size % RENDER_STEP
    except (TypeError, ValueError, OverflowError):  # None, NaN, infinity, text
        size_ok = False
    if not size_ok:
        raise user_error(f"Render size must be a multiple of {RENDER_STEP} from {RENDER_MIN} to {RENDER_MAX}.")
    try:
        saturation_ok = 0 <= saturation <= 2  # False for NaN
    except TypeError:
        saturation_ok = False
    if not saturation_ok:
        raise user_error("Saturation must be between 0 (gray) and 2 (twice as vivid).")
    return size


def human_message(error: Exception, image: str) -> str:
    """The library's message, with the server's upload path shortened to the file's name."""
    return str(error).replace(str(image), Path(image).name)


def load_photo(image: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[LoadedImage, Image.Image]:
    """Decode the upload once: (the photo's L and alpha for the models, the gray 'before' image).

    The 'before' image is the photo's own CIE L with no colour, the exact lightness every result keeps. A photo
    that cannot be used gives a gr.Error saying why, before any model runs.
    """
    processor = ColorizationImageProcessor()
    try:
        loaded = processor.load_image(image, max_pixels=max_pixels)
        no_colour = torch.zeros(1, 2, 1, 1)
        before = processor.post_process_colorization(no_colour, [loaded.lightness], alpha=[loaded.alpha])[0]
        return loaded, before
    except ColorizationError as error:
        raise user_error(human_message(error, image)) from error
    except Exception as error:  # noqa: BLE001
        logger.exception("Reading %s failed", image)
        raise gr.Error("This photo could not be read; upload it again as PNG or JPEG.") from error


def run_model(photo: LoadedImage, image: str, name: str, folder: Path, render_size: int, saturation: float,
              batcher: ForwardBatcher, max_pixels: int = DEFAULT_MAX_PIXELS, hints=None) -> Image.Image:
    """colorize()'s three steps on the decoded photo, the forward pass shared with concurrent requests through
    `batcher` (with colour `hints`, its own forward pass); a ColorizationError (a bad checkpoint, a bad hint) is
    shown as a gr.Error.

    `image` (the upload's path) and `folder` only shape messages: server paths become the photo's file name and
    the checkpoint's name.
    """
    try:
        network, processor = load_colorizer(str(folder))
        return colorize_loaded(network, processor, photo, render_size, saturation, max_pixels, batcher.predict,
                               hints)
    except ColorizationError as error:
        raise user_error(human_message(error, image).replace(str(folder), name)) from error
    except Exception as error:  # noqa: BLE001 - RuntimeError, MemoryError...: one request fails, not the app
        logger.exception("Colorizing %s with %s failed", image, folder)
        raise gr.Error("The model could not process this photo; try a smaller render size or image.") from error
