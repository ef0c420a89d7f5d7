"""Find and load a colorizer by bundled name, local folder or Hub id — once, then from a cache."""

import functools
import logging
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModel, PreTrainedModel

from .errors import ColorizationError
from .image_processing_colorization import ColorizationImageProcessor

logger = logging.getLogger(__name__)

# checkpoints/ beside the package in a source checkout (what `python app.py` and the tests use)
BUNDLED_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


def bundled_checkpoints(folder: str | Path | None = None) -> dict[str, Path]:
    """Name -> folder of every checkpoint (a sub-folder with config.json) in `folder`, default `checkpoints/`."""
    folder = Path(folder) if folder is not None else BUNDLED_CHECKPOINTS
    return {p.parent.name: p.parent for p in sorted(folder.glob("*/config.json"))} if folder.is_dir() else {}


def resolve_checkpoint(name_or_path: str | Path) -> str:
    """A local folder, else a bundled checkpoint name, else (unchanged) a Hub repo id."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return str(path)
    bundled = bundled_checkpoints()
    if str(name_or_path) in bundled:
        return str(bundled[str(name_or_path)])
    if path.exists() or str(name_or_path).count("/") > 1 or str(name_or_path).startswith((".", "~")):
        raise ColorizationError(f"{name_or_path!r} is not a checkpoint folder (a folder with config.json).")
    return str(name_or_path)


@functools.lru_cache(maxsize=16)
def load_colorizer(name_or_path: str) -> tuple[PreTrainedModel, ColorizationImageProcessor]:
    """Load model (eval mode) and image processor; cached, so repeated calls cost nothing.

    Only safetensors weights are ever loaded: a pickle checkpoint (pytorch_model.bin) is refused.
    """
    location = resolve_checkpoint(name_or_path)
    try:
        config = AutoConfig.from_pretrained(location)
        model = AutoModel.from_pretrained(location, config=config, use_safetensors=True)
    except ValueError as error:
        raise ColorizationError(f"Cannot load colorizer {name_or_path!r}: {error}") from error
    except OSError as error:
        raise ColorizationError(
            f"Cannot load colorizer {name_or_path!r}: {error}. If it is a Hub id, check the name and that the "
            f"Hub is reachable; otherwise pass a local checkpoint folder or one of {sorted(bundled_checkpoints())}."
        ) from error
    try:
        processor = ColorizationImageProcessor.from_pretrained(location)
    except OSError:
        logger.info("No preprocessor_config.json in %s: using the default image processor", location)
        processor = ColorizationImageProcessor()
    # channels_last: the layout oneDNN convolutions run fastest in (inputs are converted in predict_ab)
    return model.eval().to(memory_format=torch.channels_last), processor


def as_colorizer(model: "str | Path | PreTrainedModel") -> tuple[PreTrainedModel, ColorizationImageProcessor]:
    """Accept a loaded model (default processor) or anything `load_colorizer` takes."""
    if isinstance(model, PreTrainedModel):
        return model, ColorizationImageProcessor()
    if isinstance(model, (str, Path)):
        return load_colorizer(str(model))
    raise ColorizationError(f"model must be a checkpoint name, folder, Hub id or loaded model, not {type(model)}")


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
def predict_ab(model: PreTrainedModel, pixel_values: torch.Tensor, precision: str = "auto") -> torch.Tensor:
    """Run the model on normalised L (B, 1, S, S); returns normalised ab (B, 2, S, S) in float32.

    "auto" runs in bfloat16 where the hardware does it natively (the colour merge stays float32): chroma
    needs far less precision than bf16 keeps, and the forward pass gets 2-4x faster on such CPUs.
    """
    parameter = next(model.parameters())
    inputs = pixel_values.to(parameter.device, parameter.dtype).contiguous(memory_format=torch.channels_last)
    with torch.autocast(parameter.device.type, dtype=torch.bfloat16, enabled=use_bf16(parameter.device, precision)):
        return model(inputs).predicted_ab.float()
