"""`colorize()` and the "image-colorization" pipeline: both go through the same three steps, and both find a
model the same way (bundled name, checkpoint folder, Hub id; `DEFAULT_MODEL` when none is named)."""

import functools
from pathlib import Path

import torch
import transformers
import transformers.pipelines
from PIL import Image
from transformers import AutoModel, Pipeline, PreTrainedModel
from transformers.pipelines import PIPELINE_REGISTRY

from .checkpoints import DEFAULT_MODEL, hint_checkpoints
from .errors import ColorizationError
from .hints import hint_tensors, takes_hints
from .loading import as_colorizer, load_colorizer

TASK = "image-colorization"


def colorize(
    image,
    model: "str | Path | PreTrainedModel" = DEFAULT_MODEL,
    render_size: int | None = None,
    saturation: float = 1.0,
    precision: str = "auto",
    max_pixels: int | None = None,
    hints=None,
) -> Image.Image:
    """Colorize one image (path, PIL image, numpy array or tensor) and return a PIL image of the same size.

    The model predicts ab at `render_size`; the ab is upsampled to the input's full size and joined with
    the input's own L, so every detail of the original survives. Alpha is kept.

    Args:
        model: a bundled checkpoint name (`colorize-hub list`), a checkpoint folder, a Hub repo id, or a
            loaded model; default `DEFAULT_MODEL` (colorizer-encoder-unet). Loaded by name once, then cached.
        render_size: side of the square the model sees (multiple of 32); lower gives bolder colour,
            higher finer colour boundaries. Default: the checkpoint's own (its preprocessor_config.json), 256
            for a model passed without one.
        saturation: chroma multiplier on top of the checkpoint's calibrated `chroma_gain` (0 = gray, 1 = as the
            checkpoint is calibrated, 2 = twice as vivid).
        precision: "auto" (bfloat16 where the hardware runs it natively, else float32), "fp32" or "bf16".
        max_pixels: refuse inputs with more pixels than this, before decoding them (default: the checkpoint's
            preprocessor setting, 50 megapixels unless it says otherwise).
        hints: colour hints, `[(x, y, colour), ...]`: a point in the image's own pixels (x right, y down from the
            top-left corner) and an sRGB colour, `(r, g, b)` in 0..255 or `"#rrggbb"`; the model spreads each
            colour's chroma over the region around its point (the photo keeps its own lightness). Only models
            trained with hints take them (colorizer-encoder-unet-hints); others refuse. `suggest_colours` gives
            the likely colours at a point.

    Raises:
        ColorizationError: for an input or a checkpoint that cannot be used; the message says why and what to do.
    """
    if isinstance(image, (list, tuple)):
        raise ColorizationError("colorize() takes one image; for a batch, call it per image or use the pipeline.")
    model, processor = as_colorizer(model)
    forward = functools.partial(predict_ab, precision=precision)
    return colorize_loaded(model, processor, image, render_size, saturation, max_pixels, forward, hints)


def colorize_loaded(model, processor, image, render_size: int | None = None, saturation: float = 1.0,
                    max_pixels: int | None = None, forward=None, hints=None) -> Image.Image:
    """colorize()'s three steps with the model and processor already at hand: preprocess, `forward(model,
    pixel_values, hints=...)` -> ab (default `predict_ab`; a server passes its micro-batcher's `predict`),
    post-process."""
    inputs = processor(image, render_size=render_size, max_pixels=max_pixels)  # (1, 1, S, S) normalised L
    hint_inputs = model_hints(model, processor, inputs, hints, saturation)
    predicted = (forward or predict_ab)(model, inputs["pixel_values"], hints=hint_inputs)  # (1, 2, S, S)
    return processor.post_process_colorization(
        predicted, inputs["original_lightness"], alpha=inputs["alpha"], saturation=saturation
    )[0]


def model_hints(model, processor, inputs, hints, saturation: float = 1.0) -> dict | None:
    """The model's hint inputs for `hints` on the preprocessed photo (None without hints); a model that does not
    take hints refuses them, naming one that does."""
    if hints is None or (isinstance(hints, (list, tuple)) and not hints):
        return None
    if not takes_hints(model):
        capable = hint_checkpoints()
        other = f"use {', '.join(capable)}, which takes them" if capable else "use a checkpoint trained with hints"
        raise ColorizationError(f"{model.config.model_type} {getattr(model, 'name_or_path', '')} does not take "
                                f"colour hints; {other} (colorize(..., model={capable[0] if capable else '...'!r})).")
    height, width = inputs["original_lightness"][0].shape[-2:]
    chroma = processor.chroma_gain * saturation
    return hint_tensors(hints, (width, height), inputs["pixel_values"].shape[-1], chroma)


PRECISIONS = ("auto", "fp32", "bf16")


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True where oneDNN runs bf16 natively (AVX512-BF16 or AMX): there bf16 inference is 2-4x faster."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(device: torch.device, precision: str) -> bool:
    if precision not in PRECISIONS:
        raise ColorizationError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


@torch.inference_mode()
def predict_ab(model: PreTrainedModel, pixel_values: torch.Tensor, precision: str = "auto",
               hints: dict | None = None) -> torch.Tensor:
    """Run the model on normalised L (B, 1, S, S) (and `hints`: hint_ab, hint_mask, for a model that takes them);
    returns normalised ab (B, 2, S, S) in float32.

    "auto" runs in bfloat16 where the hardware does it natively (the colour merge stays float32): chroma
    needs far less precision than bf16 keeps, and the forward pass gets 2-4x faster on such CPUs.
    """
    parameter = next(model.parameters())
    inputs = pixel_values.to(parameter.device, parameter.dtype).contiguous(memory_format=torch.channels_last)
    with torch.autocast(parameter.device.type, dtype=torch.bfloat16, enabled=use_bf16(parameter.device, precision)):
        hint_inputs = {k: v.to(parameter.device, parameter.dtype) for k, v in (hints or {}).items()}
        return model(inputs, **hint_inputs).predicted_ab.float()


class ColorizationPipeline(Pipeline):
    """`pipeline("image-colorization", model=..., image_processor=...)`: image(s) in, colorized PIL image(s) out.

    Call parameters: `render_size` (default: the processor's), `max_pixels` (default: the processor's),
    `saturation` (default 1.0), `precision`.
    """

    _load_processor = False
    _load_image_processor = True
    _load_feature_extractor = False
    _load_tokenizer = False

    def _sanitize_parameters(self, render_size=None, saturation=None, precision=None, max_pixels=None, **kwargs):
        preprocess = {"render_size": render_size} if render_size is not None else {}
        if max_pixels is not None:
            preprocess["max_pixels"] = max_pixels
        forward = {"precision": precision} if precision is not None else {}
        postprocess = {"saturation": saturation} if saturation is not None else {}
        return preprocess, forward, postprocess

    def preprocess(self, image, render_size=None, max_pixels=None):
        return self.image_processor(image, render_size=render_size, max_pixels=max_pixels)

    def _forward(self, inputs, precision="auto"):
        return {**inputs, "predicted_ab": predict_ab(self.model, inputs["pixel_values"], precision)}

    def postprocess(self, outputs, saturation=1.0):
        return self.image_processor.post_process_colorization(
            outputs["predicted_ab"], outputs["original_lightness"], alpha=outputs["alpha"], saturation=saturation
        )[0]


def register_pipeline() -> None:
    """Register the task, and make `transformers.pipeline` find its models as `colorize()` does."""
    PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=ColorizationPipeline, pt_model=AutoModel, type="image")
    if not getattr(transformers.pipelines.pipeline, "finds_colorize_hub_checkpoints", False):
        finding = _finding_checkpoints(transformers.pipelines.pipeline)
        transformers.pipelines.pipeline = transformers.pipeline = finding


def _finding_checkpoints(transformers_pipeline):
    """`transformers.pipeline`, except that for this task a model given by name is loaded by `load_colorizer`.

    transformers alone would take a bundled name, or `checkpoints/NAME` outside the source checkout, for a Hub
    id and retry the Hub; `load_colorizer` resolves names, folders and Hub ids exactly as `colorize()` does, with
    its safety checks (safetensors only, no code from the checkpoint) and its cache. Every other task, and a
    model passed already loaded, goes to transformers unchanged.
    """

    @functools.wraps(transformers_pipeline)
    def pipeline(task=None, model=None, *args, **kwargs):
        named = model is None or isinstance(model, (str, Path))
        if task == TASK and named and not args and kwargs.get("config") is None:
            model, processor = load_colorizer(str(model if model is not None else DEFAULT_MODEL))
            if kwargs.get("image_processor") is None:
                kwargs["image_processor"] = processor
        return transformers_pipeline(task, model, *args, **kwargs)

    pipeline.finds_colorize_hub_checkpoints = True
    return pipeline
