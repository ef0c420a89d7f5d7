"""Find and load a colorizer by bundled name, local folder or Hub id — once, then from a cache."""

import functools
import json
import logging
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
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


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
CONVERT_HINT = (
    "colorize_hub loads only safetensors weights, because unpickling a file can run any code it contains. "
    "If you trust the file, convert it once: python -c \"import colorize_hub, transformers; "
    "transformers.AutoModel.from_pretrained('{folder}', use_safetensors=False).save_pretrained('{folder}')\" "
    "(writes model.safetensors), or ask its author for a safetensors checkpoint."
)


def _what_to_pass() -> str:
    bundled = sorted(bundled_checkpoints())
    names = f"a bundled name ({', '.join(bundled)}), " if bundled else ""
    return f"pass {names}a checkpoint folder (config.json + model.safetensors) or a Hub repo id (owner/name)"


def resolve_checkpoint(name_or_path: str | Path) -> str:
    """A local folder, else a bundled checkpoint name, else (unchanged) a Hub repo id (owner/name)."""
    text = str(name_or_path)
    if not text.strip():
        raise ColorizationError(f"No checkpoint was named; {_what_to_pass()}.")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path)
    bundled = bundled_checkpoints()
    if text in bundled:
        return str(bundled[text])
    if path.exists():
        raise ColorizationError(f"{text!r} is a file, not a checkpoint folder; {_what_to_pass()}.")
    if not text or text.count("/") != 1 or text.startswith((".", "~", "/")) or path.is_absolute():
        raise ColorizationError(f"No checkpoint {text!r}: it is not a checkpoint folder (no such folder) nor a "
                                f"bundled name; {_what_to_pass()}.")
    return text


def check_checkpoint_folder(folder: Path) -> None:
    """Refuse, with a message saying what to do, a local folder that is not a loadable colorize_hub checkpoint.

    Checked before transformers sees it: a missing or non-JSON config.json, a model_type that is not one of
    ours (transformers would otherwise offer to run the folder's code), pickle-only weights, and a
    model.safetensors whose header is corrupt or truncated.
    """
    from safetensors import safe_open

    from .models import MODEL_REGISTRY

    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ColorizationError(f"{folder} has no config.json, so it is not a checkpoint folder; {_what_to_pass()}.")
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as error:
        msg = f"{config_file} is not a readable JSON object ({error}); re-download or re-save the checkpoint."
        raise ColorizationError(msg) from error
    if model_type not in MODEL_REGISTRY:
        raise ColorizationError(
            f"{config_file} declares model_type {model_type!r}, which is not a colorize_hub architecture "
            f"({', '.join(MODEL_REGISTRY)}); pass a checkpoint saved by colorize_hub."
        )
    present = [name for name in SAFETENSORS_FILES if (folder / name).is_file()]
    if not present:
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise ColorizationError(f"{folder} holds only pickle weights ({', '.join(pickles)}), no model.safetensors. "
                                    + CONVERT_HINT.format(folder=folder))
        raise ColorizationError(f"{folder} has no model.safetensors; copy the whole checkpoint folder, weights too.")
    if present[0] == "model.safetensors":
        try:
            with safe_open(folder / "model.safetensors", framework="pt") as weights:
                weights.keys()
        except Exception as error:  # noqa: BLE001 - SafetensorError is not an OSError/ValueError
            raise ColorizationError(
                f"{folder / 'model.safetensors'} is corrupt or truncated ({error}); re-download or re-save it."
            ) from error


@functools.lru_cache(maxsize=16)
def load_colorizer(name_or_path: str) -> tuple[PreTrainedModel, ColorizationImageProcessor]:
    """Load model (eval mode) and image processor; cached, so repeated calls cost nothing.

    Only safetensors weights are ever loaded: a pickle checkpoint (pytorch_model.bin) is refused, and code
    shipped inside a checkpoint is never run (the architectures are this package's own). Weights that do not
    match the architecture are refused rather than silently replaced by random ones. Every failure is a
    :class:`ColorizationError` that says what is wrong and what to do.
    """
    from .models import MODEL_REGISTRY

    location = resolve_checkpoint(name_or_path)
    local = Path(location).is_dir()
    if local:
        check_checkpoint_folder(Path(location))
    try:
        config = AutoConfig.from_pretrained(location, trust_remote_code=False)
        if config.model_type not in MODEL_REGISTRY:
            raise ColorizationError(f"{name_or_path!r} is a {config.model_type!r} model, not a colorize_hub "
                                    f"architecture ({', '.join(MODEL_REGISTRY)}).")
        model, info = AutoModel.from_pretrained(
            location, config=config, use_safetensors=True, trust_remote_code=False, output_loading_info=True
        )
    except ColorizationError:
        raise
    except OSError as error:
        from .hub import unreachable_hub_message  # offline / no connection: say so, and suggest a local folder

        if not local and (unreachable := unreachable_hub_message(location, error)):
            raise ColorizationError(unreachable) from error
        if not local and "safetensors" in str(error):
            raise ColorizationError(f"Hub repo {location!r} has no model.safetensors. "
                                    + CONVERT_HINT.format(folder="DOWNLOADED_FOLDER")) from error
        where = "" if local else " If it is a Hub id, check the name and that the Hub is reachable."
        raise ColorizationError(f"Cannot load colorizer {name_or_path!r}: {error}.{where} Otherwise "
                                f"{_what_to_pass()}.") from error
    except Exception as error:  # noqa: BLE001 - bad config values or weights fail in many ways inside transformers
        raise ColorizationError(
            f"Cannot load colorizer {name_or_path!r}: {type(error).__name__}: {error}. The checkpoint is damaged or "
            "was saved by an incompatible version; re-download or re-save it."
        ) from error
    broken = {kind: info.get(kind) for kind in ("missing_keys", "mismatched_keys") if info.get(kind)}
    if broken:
        detail = "; ".join(f"{kind.replace('_', ' ')}: {sorted(map(str, keys))[:5]}" for kind, keys in broken.items())
        raise ColorizationError(
            f"The weights of {name_or_path!r} do not match its config.json ({detail}); the checkpoint is damaged or "
            "its files come from different models: re-download or re-save it."
        )
    processor = load_processor(location, local)
    return copy_weights_channels_last(fold_batch_norms(model.eval())), processor


@torch.no_grad()
def copy_weights_channels_last(model: PreTrainedModel) -> PreTrainedModel:
    """Give every parameter and buffer memory of its own, conv weights in channels_last; in place.

    channels_last is the layout oneDNN convolutions run fastest in (predict_ab converts the inputs). The copy
    matters as much: safetensors loads tensors as views of the memory-mapped file, and one small view (a bias,
    the palette) keeps the whole file mapped, so its pages count a second time in the process's memory
    (about 90 MB over the bundled checkpoints).
    """
    for module in model.modules():
        for name, tensor in [*module._parameters.items(), *module._buffers.items()]:
            if tensor is None:
                continue
            copied = tensor.clone(memory_format=torch.channels_last if tensor.ndim == 4 else torch.contiguous_format)
            if name in module._parameters:
                tensor.data = copied
            else:
                module._buffers[name] = copied
    return model


def fold_batch_norms(model: PreTrainedModel) -> PreTrainedModel:
    """Fold every eval-mode BatchNorm2d that directly follows a conv in an nn.Sequential into that conv's weights,
    and those of a timm backbone (:func:`fold_attribute_batch_norms`).

    Why: at inference a BatchNorm is a fixed per-channel affine map, so the conv can apply it; the forward pass
    then skips one full pass over every feature map (5-20 % of the CPU forward time of the U-Nets). The numbers
    are the same to float rounding. The model is changed in place and is for inference only: its state dict no
    longer has the BatchNorm entries, so a loaded colorizer is never saved or trained further (fine-tuning
    starts from the checkpoint folder, as `colorize-hub train --init_from` does).
    """
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):  # children run in registration order: every fold is right
            _fold_adjacent(module)
    backbone = getattr(model, "backbone", None)  # the fusion model's timm classifier
    if isinstance(backbone, nn.Module):
        fold_attribute_batch_norms(backbone, torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)))
    return model


@torch.no_grad()
def fold_attribute_batch_norms(module: nn.Module, example: torch.Tensor) -> int:
    """Fold the eval-mode BatchNorms that a timm network keeps as attributes (`conv_pw`, then `bn1`) into the conv
    registered just before each; returns how many were folded.

    In timm's blocks the order of registration is the order of the forward pass, but nothing promises that in
    general, so the folded network is checked on `example` and every fold is undone if its output moved.
    """
    expected = module(example)
    folded = [fold for parent in list(module.modules()) for fold in _fold_adjacent(parent)]
    if folded and not torch.allclose(module(example), expected, rtol=1e-4, atol=1e-4):
        for parent, first, conv, second, norm in folded:
            parent._modules[first], parent._modules[second] = conv, norm
        logger.warning("%s: its BatchNorms were left unfolded (folding changed its output)", type(module).__name__)
        return 0
    return len(folded)


def _fold_adjacent(parent: nn.Module) -> list[tuple]:
    """Fold each eval-mode BatchNorm2d that `parent` registers right after a conv into that conv, in place; returns
    (parent, conv name, conv, norm name, norm) per fold, which is what undoing it takes.

    What a norm applies after normalising stays in its place: timm's BatchNormAct2d has dropout and an activation.
    A module that adds other terms before its norm sets `keep_batch_norms = True`: folding would leave them unscaled.
    """
    folded = []
    if getattr(parent, "keep_batch_norms", False):
        return folded
    names = list(parent._modules)
    for first, second in zip(names, names[1:]):
        conv, norm = parent._modules[first], parent._modules[second]
        if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(norm, nn.BatchNorm2d) and not norm.training:
            parent._modules[first] = fuse_conv_bn_eval(conv, norm, transpose=isinstance(conv, nn.ConvTranspose2d))
            after = [m for m in (getattr(norm, "drop", None), getattr(norm, "act", None)) if isinstance(m, nn.Module)]
            parent._modules[second] = nn.Sequential(*after) if after else nn.Identity()
            folded.append((parent, first, conv, second, norm))
    return folded


def load_processor(location: str, local: bool) -> ColorizationImageProcessor:
    """The checkpoint's preprocessor_config.json, or the default processor where it has none."""
    if local and not (Path(location) / "preprocessor_config.json").is_file():
        logger.info("No preprocessor_config.json in %s: using the default image processor", location)
        return ColorizationImageProcessor()
    try:
        return ColorizationImageProcessor.from_pretrained(location)
    except ColorizationError as error:
        raise ColorizationError(f"{location}/preprocessor_config.json has a bad setting: {error}") from error
    except OSError as error:
        if not local:
            logger.info("No preprocessor_config.json in %s: using the default image processor", location)
            return ColorizationImageProcessor()
        msg = f"{location}/preprocessor_config.json cannot be read ({error}); fix or delete it (defaults are used)."
        raise ColorizationError(msg) from error
    except Exception as error:  # noqa: BLE001
        msg = f"{location}/preprocessor_config.json is invalid ({error}); fix or delete it (defaults are used)."
        raise ColorizationError(msg) from error


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
